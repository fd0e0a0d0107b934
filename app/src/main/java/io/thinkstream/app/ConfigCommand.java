package io.thinkstream.app;

import java.util.concurrent.Callable;
import org.apache.kafka.common.config.ConfigDef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Prints every setting with its doc, default and the value in effect. */
@Command(name = "config", mixinStandardHelpOptions = true,
    description = "List every setting: key, value in effect, default and documentation.")
final class ConfigCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Override
  public Integer call() {
    ThinkstreamConfig effective = config.load(java.util.Map.of());
    for (ConfigDef.ConfigKey key : ThinkstreamConfig.DEF.configKeys().values()) {
      System.out.printf("%s = %s%n    %s (default: %s)%n", key.name, effective.values().get(key.name),
          key.documentation, key.defaultValue);
    }
    System.out.printf("%s* = ...%n    Passed to every Kafka client with the prefix removed.%n",
        ThinkstreamConfig.KAFKA_PREFIX);
    return 0;
  }
}
