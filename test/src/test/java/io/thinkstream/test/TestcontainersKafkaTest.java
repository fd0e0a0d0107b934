package io.thinkstream.test;

import io.thinkstream.schemas.Topics;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/** The same round trip against Kafka in a container; skipped when no Docker engine is available. */
@Testcontainers(disabledWithoutDocker = true)
class TestcontainersKafkaTest {
  @Container
  static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.3.1");

  @Test
  void thousandProblemsRoundTrip() throws Exception {
    Topics topics = Topics.withPrefix("tc.");
    RoundTrip.createTopics(KAFKA.getBootstrapServers(), topics);
    Set<String> ids = RoundTrip.publish(KAFKA.getBootstrapServers(), topics, 1000, 42);
    RoundTrip.assertExactly(ids, RoundTrip.readAll(KAFKA.getBootstrapServers(), topics.problems()));
  }
}
