package io.thinkstream.app;

import ai.djl.ndarray.types.DataType;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.ModelBench;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.sampler.LivePolicy;
import io.thinkstream.sampler.SamplerBench;
import io.thinkstream.model.multiturn.SinglePassBench;
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
    subcommands = {BenchCommand.Model.class, BenchCommand.Rewards.class, BenchCommand.Sampler.class, BenchCommand.SinglePassCommand.class})
final class BenchCommand {

  @Command(name = "model", mixinStandardHelpOptions = true,
      description = "Train tokens/s, and sampling tokens/s with the KV cache and with full recompute, on the demo model size.")
  static final class Model implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      ModelBench.Result result = ModelBench.run(ModelBench.Options.defaults(), System.err);
      spec.commandLine().getOut().println(result.json());
      return 0;
    }
  }

  @Command(name = "rewards", mixinStandardHelpOptions = true,
      description = {"Samples/s through verify + grouping + pairing (2 KB samples) next to the raw produce+consume",
          "rate of the same in-process broker, and p99 sample->pair latency at 1000 samples/s."})
  static final class Rewards implements Callable<Integer> {
    @Spec CommandSpec spec;

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
        RewardsBench.run(broker.bootstrap(), raw, rewards, RewardsBench.Options.defaults(), out);
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

    @Option(names = "--repeats", defaultValue = "3", description = "Alternating runs per side; the best counts (default: ${DEFAULT-VALUE}).")
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
}
