package io.thinkstream.app;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.kafka.common.config.ConfigDef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Prints every setting with its doc, default and the value in effect. */
@Command(name = "config", mixinStandardHelpOptions = true,
    description = "List every setting: key, value in effect, default and documentation.")
final class ConfigCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Override
  public Integer call() {
    ThinkstreamConfig effective = config.load(java.util.Map.of());
    PrintWriter out = spec.commandLine().getOut();
    for (ConfigDef.ConfigKey key : ThinkstreamConfig.DEF.configKeys().values()) {
      out.printf("%s = %s%n    %s (default: %s)%n", key.name, effective.values().get(key.name),
          key.documentation, key.defaultValue);
    }
    out.printf("%s* = ...%n    Passed to every Kafka client with the prefix removed.%n",
        ThinkstreamConfig.KAFKA_PREFIX);
    return 0;
  }
}
