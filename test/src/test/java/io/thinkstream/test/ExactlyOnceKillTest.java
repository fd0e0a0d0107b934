package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import io.thinkstream.avro.SftExample;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.RewardsApp;
import io.thinkstream.streams.RewardsConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly once across a kill, not a clean close: a rewards process is SIGKILLed mid-stream (no
 * close, no commit, its transaction left open), a fresh instance with an empty state directory takes
 * over and restores from the changelogs, and a read_committed consumer sees every reward, pair and
 * SFT example once — none twice, none missing.
 */
class ExactlyOnceKillTest {
  private static final Topics TOPICS = Topics.withPrefix("kill.");
  private static final int K = 4;
  private static final int PROBLEMS = 400;
  private static EmbeddedBroker broker;

  @TempDir static Path dataDir;
  @TempDir Path work;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
    RoundTrip.createTopics(broker.bootstrap(), TOPICS);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  @Test
  void aKilledInstanceLeavesNoDuplicateAndNothingMissing() throws Exception {
    publish();
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-cp", System.getProperty("java.class.path"), RewardsProcess.class.getName(), broker.bootstrap(),
        "kill.", work.resolve("state-a").toString(), String.valueOf(K), "judge-kill")
        .redirectErrorStream(true).redirectOutput(work.resolve("child.log").toFile()).start();
    int atKill;
    try {
      long deadline = System.currentTimeMillis() + 120_000;
      while ((atKill = RoundTrip.readAll(broker.bootstrap(), TOPICS.rewards()).size()) < 300) {
        assertTrue(child.isAlive(), "the rewards process died: see " + work.resolve("child.log"));
        assertTrue(System.currentTimeMillis() < deadline, "no rewards from the process after 120 s");
        Thread.sleep(50);
      }
    } finally {
      child.destroyForcibly(); // SIGKILL
      child.waitFor(30, TimeUnit.SECONDS);
    }
    int total = PROBLEMS * K * 2; // an OUTCOME and a JUDGE reward per sample
    System.err.println("killed the rewards process with " + atKill + " of " + total + " rewards committed");
    assertTrue(atKill < total, "the process finished before it was killed: " + atKill);

    try (RewardsApp app = RewardsApp.start(RewardsApp.Config.of(broker.bootstrap(), TOPICS, Map.of(
        RewardsConfig.APPLICATION_ID, "rewards-kill", RewardsConfig.STATE_DIR, work.resolve("state-b").toString(),
        RewardsConfig.EXPECTED_K, K, RewardsConfig.GROUP_TIMEOUT_MS, 600_000L,
        RewardsConfig.JUDGE_WORKER_GROUP_ID, "judge-kill"), Map.of()))) {
      awaitCount(TOPICS.rewards(), total);
      awaitCount(TOPICS.preferences(), PROBLEMS * 3);
      awaitCount(TOPICS.sftExamples(), PROBLEMS * 2);
      Thread.sleep(3_000); // anything produced twice would show by now
    }

    List<Reward> rewards = values(TOPICS.rewards());
    assertEquals(total, rewards.size(), "rewards");
    assertEquals(total, rewards.stream().map(r -> r.getSampleId() + "/" + r.getKind()).distinct().count());
    Map<RewardKind, Long> kinds = rewards.stream().collect(Collectors.groupingBy(Reward::getKind, Collectors.counting()));
    assertEquals(Map.of(RewardKind.OUTCOME, (long) PROBLEMS * K, RewardKind.JUDGE, (long) PROBLEMS * K), kinds);
    List<PreferencePair> pairs = values(TOPICS.preferences());
    assertEquals(PROBLEMS * 3, pairs.size(), "pairs");
    assertEquals(pairs.size(), pairs.stream().map(PreferencePair::getPairId).distinct().count());
    assertEquals(Map.of(PairKind.OUTCOME, (long) PROBLEMS * 2, PairKind.JUDGE, (long) PROBLEMS),
        pairs.stream().collect(Collectors.groupingBy(PreferencePair::getKind, Collectors.counting())));
    List<SftExample> sft = values(TOPICS.sftExamples());
    assertEquals(PROBLEMS * 2, sft.size(), "sft examples");
    assertEquals(sft.size(), sft.stream().map(SftExample::getSampleId).distinct().count());
  }

  private static void publish() {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(broker.bootstrap()),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int p = 0; p < PROBLEMS; p++) {
        RoundTrip.send(producer, TOPICS.problems(), "p" + p, Problem.newBuilder().setId("p" + p).setSource("it")
            .setQuestion("Question p" + p).setGoldAnswer(String.valueOf(p)).setTask("arithmetic")
            .setCreatedAt(Instant.now()).build());
      }
      producer.flush();
      for (int p = 0; p < PROBLEMS; p++) {
        for (int i = 0; i < K; i++) {
          String answer = "#### " + (i % 2 == 0 ? p : p + 1000 + i);
          RoundTrip.send(producer, TOPICS.samples(), "p" + p, Sample.newBuilder().setSampleId("p" + p + "-s" + i)
              .setProblemId("p" + p).setPolicyVersion(1).setPrompt("Question p" + p)
              .setSteps(List.of("Seed " + i + " thinks " + "hard ".repeat(i))).setAnswer(answer).setSumLogProb(-1)
              .setSeed(i).setSamplerId("it").setTimings(new SampleTimings(0L, 0L, 0, 0)).setCreatedAt(Instant.now())
              .build());
        }
      }
      producer.flush();
    }
  }

  private static <V> List<V> values(Topic<String, V> topic) throws Exception {
    return RoundTrip.values(broker.bootstrap(), topic);
  }

  private static void awaitCount(Topic<String, ?> topic, int count) throws Exception {
    long deadline = System.currentTimeMillis() + 180_000;
    int seen = 0;
    while (System.currentTimeMillis() < deadline) {
      seen = values(topic).size();
      if (seen >= count) {
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError(topic.name() + ": " + seen + " records after 180 s, expected " + count);
  }
}
