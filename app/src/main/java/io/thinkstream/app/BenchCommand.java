package io.thinkstream.app;

import io.thinkstream.model.ModelBench;
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
    subcommands = {BenchCommand.Model.class, BenchCommand.Rewards.class, BenchCommand.SinglePassCommand.class})
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

    @Override
    public Integer call() {
      ModelBench.Options o = ModelBench.Options.defaults().withThreads(threads);
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
