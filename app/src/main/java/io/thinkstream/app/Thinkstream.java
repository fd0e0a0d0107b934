package io.thinkstream.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code thinkstream} command line: one subcommand per process of the loop, plus the
 * embedded broker and the all-in-one demo. Run {@code thinkstream --help}.
 */
@Command(name = "thinkstream", mixinStandardHelpOptions = true, version = "thinkstream 0.1.0",
    description = "A Kafka-native self-improvement loop for reasoning language models.",
    subcommands = {
        DemoCommand.class, BrokerCommand.class, TopicsCommand.class, ProduceCommand.class,
        TailCommand.class, SamplerCommand.class, RewardsCommand.class, EvaluatorCommand.class, JudgeCommand.class, VerifyCommand.class, SftCommand.class, TrainerCommand.class, LineageCommand.class, BenchCommand.class, ConfigCommand.class, CommandLine.HelpCommand.class})
public final class Thinkstream {

  public static void main(String[] args) {
    // The PyTorch natives come from the pytorch-native-cpu jar: DJL must not try to download others.
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    System.exit(commandLine().execute(args));
  }

  /** The command line with thinkstream's error reporting: a clear message, no stack trace, exit 1. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Thinkstream());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof ConfigException || e instanceof IOException || e instanceof UncheckedIOException
          || e instanceof IllegalArgumentException || e instanceof KafkaException) {
        commandLine.getErr().println("thinkstream " + commandLine.getCommandName() + ": " + e.getMessage());
        return 1;
      }
      throw e;
    });
    return cli;
  }
}
