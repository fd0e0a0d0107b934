package io.thinkstream.app;

import io.thinkstream.model.ModelBench;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Benchmarks that print their figures; each one's last line is one JSON object. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks; each prints its figures and ends with one JSON line.",
    subcommands = {BenchCommand.Model.class})
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
}
