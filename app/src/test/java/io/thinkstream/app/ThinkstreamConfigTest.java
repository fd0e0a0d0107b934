package io.thinkstream.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.tasks.SyntheticProblems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThinkstreamConfigTest {
  @TempDir Path dir;

  @Test
  void fileThenSetThenFlagsWin() throws Exception {
    Path file = dir.resolve("t.properties");
    Files.writeString(file, "bootstrap.servers=file:1\ntopic.partitions=6\ntopic.prefix=exp.\nkafka.client.id=me\n");
    ThinkstreamConfig cfg = ThinkstreamConfig.load(file, Map.of("topic.partitions", "9"),
        Map.of("bootstrap.servers", "flag:2"));
    assertEquals("flag:2", cfg.bootstrapServers());
    assertEquals(9, cfg.getInt(ThinkstreamConfig.TOPIC_PARTITIONS));
    assertEquals("exp.problems", cfg.topics().problems().name());
    assertEquals(Map.of("bootstrap.servers", "flag:2", "client.id", "me"), cfg.kafkaClient());
  }

  @Test
  void defaultsApplyWithoutAFile() {
    ThinkstreamConfig cfg = ThinkstreamConfig.load(null);
    assertEquals("localhost:9092", cfg.bootstrapServers());
    assertEquals(new SyntheticProblems.Settings(2, 4, 50, EnumSet.allOf(SyntheticProblems.Op.class)), cfg.synthetic());
  }

  @Test
  void unknownKeysFailWithTheKnownOnes() throws Exception {
    Path file = dir.resolve("typo.properties");
    Files.writeString(file, "bootstrap.server=localhost:9092\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ThinkstreamConfig.load(file));
    assertTrue(e.getMessage().contains("unknown config key [bootstrap.server] in " + file), e.getMessage());
    assertTrue(e.getMessage().contains("bootstrap.servers"), e.getMessage());
    assertThrows(ConfigException.class, () -> ThinkstreamConfig.load(null, Map.of("nope", "1")));
  }

  @Test
  void badValuesFailWithTheValue() {
    ConfigException steps = assertThrows(ConfigException.class,
        () -> ThinkstreamConfig.load(null, Map.of("synthetic.steps", "5..2")));
    assertTrue(steps.getMessage().contains("5..2"), steps.getMessage());
    assertThrows(ConfigException.class, () -> ThinkstreamConfig.load(null, Map.of("topic.partitions", "0")));
    assertThrows(ConfigException.class, () -> ThinkstreamConfig.load(null, Map.of("synthetic.operations", "add,pow")));
  }

  @Test
  void syntheticKnobsReachTheGenerator() {
    ThinkstreamConfig cfg = ThinkstreamConfig.load(null,
        Map.of("synthetic.steps", "3..5", "synthetic.max.number", "20", "synthetic.operations", "add,mul"));
    assertEquals(new SyntheticProblems.Settings(3, 5, 20, EnumSet.of(SyntheticProblems.Op.ADD, SyntheticProblems.Op.MUL)),
        cfg.synthetic());
  }
}
