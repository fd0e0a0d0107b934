package io.thinkstream.app;

import io.thinkstream.model.ModelConfig;
import io.thinkstream.trainer.Sft;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Trains the built-in-tokenizer policy on synthetic gold solutions: the demo's warm start. */
@Command(name = "sft", mixinStandardHelpOptions = true,
    description = {"Supervised fine-tuning of the built-in policy on synthetic gold solutions.",
        "Writes config.json, model.safetensors and tokenizer.json to --out and reports held-out greedy accuracy."})
final class SftCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Checkpoint directory to write.")
  Path out;

  @Option(names = "--steps", description = "Optimizer steps (default: the demo setting).")
  Integer steps;

  @Option(names = "--held-out", description = "Held-out problems for the final greedy accuracy (default: the demo setting).")
  Integer heldOut;

  @Option(names = "--model-config", paramLabel = "CONFIG_JSON",
      description = "An HF-style config.json for the model size (default: the demo size).")
  Path modelConfig;

  @Override
  public Integer call() {
    Sft.Options options = Sft.defaults(out);
    if (steps != null) {
      options = options.withSteps(steps);
    }
    if (heldOut != null) {
      options = options.withHeldOut(heldOut);
    }
    if (modelConfig != null) {
      options = options.withConfig(ModelConfig.read(modelConfig));
    }
    Sft.Result r = Sft.run(options, System.err);
    spec.commandLine().getOut().printf(Locale.ROOT,
        "{\"checkpoint\":\"%s\",\"sha256\":\"%s\",\"steps\":%d,\"final_loss\":%.4f,\"train_tokens_per_s\":%.0f,"
            + "\"held_out_accuracy\":%.4f,\"held_out_problems\":%d,\"train_s\":%.1f,\"total_s\":%.1f}%n",
        r.checkpoint(), r.sha256(), r.steps(), r.finalLoss(), r.tokensPerSecond(), r.heldOutAccuracy(),
        r.heldOutProblems(), r.trainTime().toMillis() / 1000.0, r.totalTime().toMillis() / 1000.0);
    return 0;
  }
}
