package io.thinkstream.app;

import io.thinkstream.streams.Verify;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Checks every gold solution of a GSM8K-format file: a data-quality tool. */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Check each calculator annotation and final answer of a GSM8K-format JSONL file; last line is a JSON summary.")
final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--file", required = true, description = "The JSONL file (question, answer).")
  Path file;

  @Override
  public Integer call() throws Exception {
    Verify.run(file, spec.commandLine().getOut());
    return 0;
  }
}
