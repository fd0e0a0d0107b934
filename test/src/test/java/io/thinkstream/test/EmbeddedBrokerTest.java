package io.thinkstream.test;

import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.schemas.Topics;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process KRaft broker: a real round trip, and records that survive a restart. */
class EmbeddedBrokerTest {
  @TempDir Path dataDir;

  @Test
  void thousandProblemsRoundTripAndSurviveARestart() throws Exception {
    Topics topics = Topics.withPrefix("restart.");
    Set<String> ids;
    try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", 0, dataDir)) {
      RoundTrip.createTopics(broker.bootstrap(), topics);
      ids = RoundTrip.publish(broker.bootstrap(), topics, 1000, 42);
      RoundTrip.assertExactly(ids, RoundTrip.readAll(broker.bootstrap(), topics.problems()));
    }
    try (EmbeddedBroker restarted = EmbeddedBroker.start("localhost", 0, dataDir)) {
      RoundTrip.assertExactly(ids, RoundTrip.readAll(restarted.bootstrap(), topics.problems()));
    }
  }
}
