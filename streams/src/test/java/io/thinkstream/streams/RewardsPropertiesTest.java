package io.thinkstream.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.thinkstream.schemas.Topics;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** The client settings the application starts with, and that pass-through properties still win. */
class RewardsPropertiesTest {
  private static Properties properties(Map<String, Object> extra) {
    return RewardsApp.properties(new RewardsApp.Config("localhost:9092", Topics.DEFAULT, "app", "state", 250,
        RewardsConfig.Settings.defaults(), Optional.empty(), extra, Optional.empty(), "judge"));
  }

  @Test
  void batchesProducesAndFetchesByDefault() {
    Properties p = properties(Map.of());
    assertEquals(25, p.get(StreamsConfig.producerPrefix("linger.ms")));
    assertEquals(128 * 1024, p.get(StreamsConfig.mainConsumerPrefix("fetch.min.bytes")));
    assertEquals(25, p.get(StreamsConfig.mainConsumerPrefix("fetch.max.wait.ms")));
    assertEquals(StreamsConfig.EXACTLY_ONCE_V2, p.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
  }

  @Test
  void passThroughPropertiesOverrideTheClientDefaults() {
    Properties p = properties(Map.of(StreamsConfig.producerPrefix("linger.ms"), 0,
        StreamsConfig.mainConsumerPrefix("fetch.min.bytes"), 1));
    assertEquals(0, p.get(StreamsConfig.producerPrefix("linger.ms")));
    assertEquals(1, p.get(StreamsConfig.mainConsumerPrefix("fetch.min.bytes")));
  }
}
