package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.RewardsBench;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small run of the rewards benchmark on the in-process broker: checks that it completes and
 * reports sane figures. Thresholds on the figures belong to the benchmark command, not here.
 */
class RewardsBenchTest {
  @TempDir Path dataDir;

  @Test
  void smallRunReportsThroughputAndLatency() throws Exception {
    try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", 0, dataDir)) {
      Topics raw = Topics.withPrefix("bench-raw.");
      Topics rewards = Topics.withPrefix("bench.");
      RoundTrip.createTopics(broker.bootstrap(), raw);
      RoundTrip.createTopics(broker.bootstrap(), rewards);
      int samples = Integer.getInteger("bench.samples", 2000);
      int seconds = Integer.getInteger("bench.seconds", 3);
      RewardsBench.Result r = RewardsBench.run(broker.bootstrap(), raw, rewards,
          new RewardsBench.Options(samples, 8, 1000, seconds, 400, 2, 5), new PrintWriter(System.out, true));
      assertTrue(r.rawPerSec() > 0 && r.rewardsPerSec() > 0 && r.p99Ms() > 0, r.json());
      assertTrue(r.bytesWritten() > r.samples() * 2048L && r.ratioVsBytesEquivalent() > 0, r.json());
      assertEquals(2, r.rounds().size(), r.json());
      for (RewardsBench.Round round : r.rounds()) {
        assertTrue(round.bytesWritten() > samples * 2048L && round.rewardsPerSec() > 0, r.json());
      }
    }
  }
}
