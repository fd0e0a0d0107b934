package io.thinkstream.app;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --config F} and {@code --set key=value}, shared by every subcommand. */
final class ConfigOptions {
  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "Properties file with thinkstream settings (see 'thinkstream config').")
  Path file;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override one setting; repeatable. A command's own flags win over --set.")
  Map<String, String> set = new LinkedHashMap<>();

  /** The configuration with the command's own flags (null values are left out) applied last. */
  ThinkstreamConfig load(Map<String, String> flags) {
    Map<String, String> given = new LinkedHashMap<>();
    flags.forEach((k, v) -> {
      if (v != null) {
        given.put(k, v);
      }
    });
    return ThinkstreamConfig.load(file, set, given);
  }

  /** A map of flag values by config key; null values mean "not given". */
  static Map<String, String> flags(Object... keyValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      map.put((String) keyValues[i], keyValues[i + 1] == null ? null : String.valueOf(keyValues[i + 1]));
    }
    return map;
  }
}
