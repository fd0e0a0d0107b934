package io.thinkstream.app;

import ai.djl.ndarray.types.DataType;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.ModelBench;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.model.multiturn.SinglePassBench;
import io.thinkstream.sampler.LivePolicy;
import io.thinkstream.sampler.SamplerBench;
import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.RewardsBench;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Benchmarks that print their figures; each one's last line is one JSON object. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks; each prints its figures and ends with one JSON line.",
    subcommands = {BenchCommand.Model.class, BenchCommand.Rewards.class, BenchCommand.Sampler.class, BenchCommand.SinglePassCommand.class,
        BenchCommand.TrainerBenchCommand.class, BenchCommand.HfReference.class})
final class BenchCommand {

  @Command(name = "model", mixinStandardHelpOptions = true,
      description = {"Train tokens/s, and sampling tokens/s with the KV cache and with full recompute, on the demo model size.",
          "--vs-pytorch also alternates KV-cache sampling with bench/twin.py, its PyTorch-eager twin, on the same weights."})
  static final class Model implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--vs-pytorch", description = "Alternate Java and PyTorch-eager KV-cache sampling runs and print the ratio.")
    boolean vsPytorch;

    @Option(names = "--python", defaultValue = "${env:THINKSTREAM_PYTHON:-bench/.venv/bin/python}",
        description = "Python of a venv with torch (default: $THINKSTREAM_PYTHON or ${DEFAULT-VALUE}); "
            + "set it up with: python3 -m venv bench/.venv && bench/.venv/bin/pip install torch")
    Path python;

    @Option(names = "--twin", defaultValue = "bench/twin.py", description = "The PyTorch twin script (default: ${DEFAULT-VALUE}).")
    Path twin;

    @Option(names = "--threads", defaultValue = "0",
        description = "Intra-op threads on both sides (default: 0, libtorch's default, which the twin then uses too).")
    int threads;

    @Option(names = "--repeats", defaultValue = "3",
        description = "Alternating runs per side and measurement; the best of each side counts (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Override
    public Integer call() {
      ModelBench.Options o = ModelBench.Options.defaults().withThreads(threads).withRepeats(repeats);
      if (vsPytorch) {
        o = o.withTwin(new ModelBench.Twin(python, twin));
      }
      ModelBench.Result result = ModelBench.run(o, System.err);
      spec.commandLine().getOut().println(result.json());
      return 0;
    }
  }

  @Command(name = "rewards", mixinStandardHelpOptions = true,
      description = {"Samples/s through verify + grouping + pairing (2 KB samples) next to the raw produce+consume",
          "rate of the same in-process broker, and p99 sample->pair latency at 1000 samples/s.",
          "Alternating rounds after a warm-up; the ratios are the medians of the per-round ratios."})
  static final class Rewards implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--samples", description = "Samples per round (default: ${DEFAULT-VALUE}).")
    int samples = RewardsBench.Options.defaults().samples();

    @Option(names = "--warmup-samples", description = "Samples per untimed warm-up batch through both sides (default: ${DEFAULT-VALUE}).")
    int warmupSamples = RewardsBench.Options.defaults().warmupSamples();

    @Option(names = "--max-warmup-seconds", description = "Warm-up batches repeat until the JIT has settled or this"
        + " much time has passed (default: ${DEFAULT-VALUE}).")
    int maxWarmupSeconds = RewardsBench.Options.defaults().maxWarmupSeconds();

    @Option(names = "--rounds", description = "Alternating pipeline / raw rounds (default: ${DEFAULT-VALUE}).")
    int rounds = RewardsBench.Options.defaults().rounds();

    @Override
    public Integer call() throws Exception {
      Path dir = Files.createTempDirectory("thinkstream-bench-");
      PrintWriter out = spec.commandLine().getOut();
      try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", 0, dir);
           Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
        Topics raw = Topics.withPrefix("bench-raw.");
        Topics rewards = Topics.withPrefix("bench.");
        TopicsCommand.create(admin, raw, 3, (short) 1, spec.commandLine().getErr());
        TopicsCommand.create(admin, rewards, 3, (short) 1, spec.commandLine().getErr());
        RewardsBench.Options d = RewardsBench.Options.defaults();
        RewardsBench.run(broker.bootstrap(), raw, rewards,
            new RewardsBench.Options(samples, d.k(), d.rate(), d.latencySeconds(), warmupSamples, rounds,
                maxWarmupSeconds), out);
      } finally {
        DemoCommand.deleteTree(dir);
      }
      return 0;
    }
  }

  @Command(name = "sampler", mixinStandardHelpOptions = true,
      description = {"Samples/s and tokens/s through Kafka (problems in, sampler service, samples out) next to the raw",
          "Generator rate of the same random-weight demo model and batch size, alternating; ratio = kafka / raw."})
  static final class Sampler implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--problems", defaultValue = "96", description = "Problems per run (default: ${DEFAULT-VALUE}).")
    int problems;

    @Option(names = "--k", defaultValue = "8", description = "Samples per problem (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--batch", defaultValue = "32", description = "Sequences per generate call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Tokens per sequence, eos ignored (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--repeats", defaultValue = "5", description = "Timed alternating runs per side, after one untimed pair;"
        + " the best of each counts (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Override
    public Integer call() throws Exception {
      Path dir = Files.createTempDirectory("thinkstream-bench-");
      PrintWriter out = spec.commandLine().getOut();
      SyntheticTokenizer tok = new SyntheticTokenizer(8);
      try (Transformer model = Transformer.init(ModelConfig.demo(tok.vocabSize()), Transformer.defaultDevice(),
          DataType.FLOAT32, 42)) {
        Checkpoints.save(model, tok, dir.resolve("model"));
      }
      Files.writeString(dir.resolve("model/thinkstream.json"), "{\"tokenizer\": \"synthetic\", \"strategy_tags\": 8}\n");
      try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", 0, dir.resolve("kafka"));
           Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()));
           LivePolicy policy = new LivePolicy(LivePolicy.load(dir.resolve("model"), 0))) {
        SamplerBench.Result result = SamplerBench.run(broker.bootstrap(), run -> {
          Topics topics = Topics.withPrefix("bench-sampler-" + run + ".");
          try {
            TopicsCommand.create(admin, topics, 3, (short) 1, spec.commandLine().getErr());
          } catch (Exception e) {
            throw new IllegalStateException("cannot create the bench topics: " + e.getMessage(), e);
          }
          return topics;
        }, policy, new SamplerBench.Options(problems, k, batch, maxNewTokens, repeats), out);
        out.println(result.json());
      } finally {
        DemoCommand.deleteTree(dir);
      }
      return 0;
    }
  }

  @Command(name = "single-pass", mixinStandardHelpOptions = true,
      description = {"Epoch wall time of single-pass vs N-pass training of the same multi-turn conversations,",
          "with the token ratio (N-pass / single-pass tokens) and the relative loss difference."})
  static final class SinglePassCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--turns", split = ",", defaultValue = "2,4,8", description = "Turn counts to measure (default: ${DEFAULT-VALUE}).")
    List<Integer> turns;

    @Option(names = "--conversations", defaultValue = "32", description = "Conversations per epoch (default: ${DEFAULT-VALUE}).")
    int conversations;

    @Option(names = "--batch", defaultValue = "8", description = "Conversations per micro-batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--reasoning-share", defaultValue = "1.0",
        description = "Probability that a turn has reasoning (default: ${DEFAULT-VALUE}).")
    double reasoningShare;

    @Option(names = "--repeats", defaultValue = "3", description = "Alternating timed epochs per side; the best counts (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Override
    public Integer call() {
      SinglePassBench.Options o = new SinglePassBench.Options(turns, conversations, batch, reasoningShare, repeats, null, 1);
      SinglePassBench.Result result = SinglePassBench.run(o, System.err);
      spec.commandLine().getOut().println(result.json());
      return 0;
    }
  }

  @Command(name = "trainer", mixinStandardHelpOptions = true,
      description = {"Train tokens/s of the trainer consuming pairs from an in-process broker next to the raw step",
          "rate of the same model (demo size) and batches in the same run; ratio = trainer / raw."})
  static final class TrainerBenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--steps", defaultValue = "20", description = "Timed steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "16", description = "Pairs per micro-batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws Exception {
      Path dir = Files.createTempDirectory("thinkstream-bench-trainer-");
      try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", 0, dir.resolve("kafka"));
           Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
        Topics topics = Topics.withPrefix("bench-trainer.");
        TopicsCommand.create(admin, topics, 1, (short) 1, spec.commandLine().getErr());
        io.thinkstream.trainer.TrainerBench.Result r = io.thinkstream.trainer.TrainerBench.run(broker.bootstrap(), topics,
            dir, new io.thinkstream.trainer.TrainerBench.Options(steps, batch), System.err);
        spec.commandLine().getOut().println(r.json());
      } finally {
        DemoCommand.deleteTree(dir);
      }
      return 0;
    }
  }

  @Command(name = "hf-reference", mixinStandardHelpOptions = true,
      description = {"Token ids and logits of one synthetic problem under a checkpoint (prompt with tag 1, then the",
          "gold solution, as SFT trains it), as one JSON line:",
          "what bench/hf-parity/hf_parity.py compares with transformers' AutoTokenizer and AutoModelForCausalLM."})
  static final class HfReference implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint directory.")
    Path checkpoint;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the synthetic problem (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
      io.thinkstream.model.Tokenizer tok = io.thinkstream.model.Checkpoints.tokenizer(checkpoint);
      io.thinkstream.avro.Problem problem = new io.thinkstream.tasks.SyntheticProblems(
          io.thinkstream.tasks.SyntheticProblems.Settings.defaults(), seed, java.time.Clock.systemUTC()).problem(0);
      String tag = tok.tokenId(io.thinkstream.schemas.text.PromptFormat.tag(1)) >= 0
          ? io.thinkstream.schemas.text.PromptFormat.tag(1) : null;
      // the whole example, so the numbers, <<calc>> annotations and #### of the solution are compared too
      String text = io.thinkstream.schemas.text.PromptFormat.prompt(problem.getQuestion(), tag)
          + problem.getSolutions().get(0).getText();
      int[] ids = tok.encodeAfterBos(text);
      float[] logits;
      try (io.thinkstream.model.Transformer model = io.thinkstream.model.Checkpoints.load(checkpoint, ai.djl.Device.cpu());
           ai.djl.ndarray.NDManager step = model.newStepManager()) {
        int[][] segments = {new int[ids.length]};
        java.util.Arrays.fill(segments[0], 1);
        logits = model.forward(step.create(new int[][] {ids}), step.create(io.thinkstream.model.Masks.positions(segments)),
            io.thinkstream.model.Masks.causal(step, segments), null).toFloatArray(); // (1, T, V)
      }
      var json = new com.fasterxml.jackson.databind.ObjectMapper();
      var out = json.createObjectNode();
      out.put("text", text);
      out.put("bos_id", tok.bosId());
      var idArray = out.putArray("ids");
      java.util.Arrays.stream(ids).forEach(idArray::add);
      out.put("vocab_size", logits.length / ids.length);
      var logitArray = out.putArray("logits");
      for (float f : logits) {
        logitArray.add(f);
      }
      spec.commandLine().getOut().println(json.writeValueAsString(out));
      return 0;
    }
  }
}
