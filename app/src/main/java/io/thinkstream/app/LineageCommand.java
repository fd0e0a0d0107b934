package io.thinkstream.app;

import io.thinkstream.trainer.CheckpointStore;
import io.thinkstream.trainer.Lineage;
import io.thinkstream.trainer.Manifest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The records that trained a checkpoint, from its manifest and the retained topics. */
@Command(name = "lineage", mixinStandardHelpOptions = true,
    description = {"List the pairs and examples that trained checkpoint VERSION (JSON lines), from its manifest",
        "and the retained topics; --summary counts them by kind, policy version and problem source."})
final class LineageCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Parameters(index = "0", paramLabel = "VERSION", description = "Checkpoint version (the N of v{N}).")
  long version;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "The trainer's checkpoint directory.")
  Path out;

  @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
  String bootstrap;

  @Option(names = "--summary", description = "Counts instead of one line per record.")
  boolean summary;

  @Override
  public Integer call() throws Exception {
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap));
    Manifest m = new CheckpointStore(out).verified(version);
    List<Lineage.Entry> entries = Lineage.of(m, cfg.topics(), cfg.kafkaClient());
    var json = new com.fasterxml.jackson.databind.ObjectMapper()
        .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);
    if (summary) {
      Map<String, Object> s = new java.util.LinkedHashMap<>();
      s.put("version", version);
      s.put("records", entries.size());
      s.putAll(Lineage.summary(entries, cfg.topics(), cfg.kafkaClient()));
      spec.commandLine().getOut().println(json.writeValueAsString(s));
    } else {
      for (Lineage.Entry e : entries) {
        spec.commandLine().getOut().println(json.writeValueAsString(e));
      }
    }
    spec.commandLine().getOut().flush();
    return 0;
  }
}
