package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.DeadLetter;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rewards application on a real broker with exactly_once_v2: samples in; OUTCOME and JUDGE
 * rewards, SFT examples, OUTCOME and JUDGE pairs and a dead letter out; then a restart (a group
 * half collected before it completes after it) and nothing is emitted twice.
 */
class RewardsAppTest {
  private static final Topics TOPICS = Topics.withPrefix("rw.");
  private static final int K = 4;
  private static EmbeddedBroker broker;

  @TempDir static Path dataDir;
  @TempDir Path stateDir;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
    RoundTrip.createTopics(broker.bootstrap(), TOPICS);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  private RewardsApp start() throws InterruptedException {
    return start(TOPICS, Map.of(RewardsConfig.APPLICATION_ID, "rewards-it", RewardsConfig.EXPECTED_K, K,
        RewardsConfig.GROUP_TIMEOUT_MS, 600_000L));
  }

  /** The application over {@code topics} with {@code props} (and this test's state dir), once RUNNING. */
  private RewardsApp start(Topics topics, Map<String, Object> props) throws InterruptedException {
    Map<String, Object> all = new java.util.HashMap<>(props);
    all.put(RewardsConfig.STATE_DIR, stateDir.toString());
    RewardsApp app = RewardsApp.start(RewardsApp.Config.of(broker.bootstrap(), topics, all, Map.of()));
    long deadline = System.currentTimeMillis() + 60_000;
    while (app.state() != KafkaStreams.State.RUNNING) {
      assertTrue(System.currentTimeMillis() < deadline, "not RUNNING after 60 s: " + app.state());
      Thread.sleep(100);
    }
    return app;
  }

  @Test
  void samplesBecomeRewardsPairsAndSftExamplesExactlyOnceAcrossARestart() throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(broker.bootstrap()),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int p = 0; p < 10; p++) {
        RoundTrip.send(producer, TOPICS.problems(), "p" + p, problem("p" + p, String.valueOf(10 + p)));
      }
      producer.flush();
      for (int p = 0; p < 10; p++) {
        sendGroup(producer, "p" + p, p == 9 ? 2 : K); // p9: half a group before the restart
      }
      RoundTrip.send(producer, TOPICS.samples(), "p0", sample("p0", 0, "10")); // a sampler retry
      producer.send(new ProducerRecord<>(TOPICS.samples().name(), "p1".getBytes(StandardCharsets.UTF_8),
          "poison".getBytes(StandardCharsets.UTF_8)));
      producer.flush();

      try (RewardsApp app = start()) {
        // 38 samples graded; 9 complete groups x (2 SFT, 2 OUTCOME pairs, 1 JUDGE pair, 4 JUDGE rewards)
        awaitCount(TOPICS.preferences(), 9 * 3);
        awaitCount(TOPICS.rewards(), 38 + 9 * K);
      }
      for (int p = 10; p < 12; p++) {
        RoundTrip.send(producer, TOPICS.problems(), "p" + p, problem("p" + p, String.valueOf(10 + p)));
      }
      producer.flush();
      for (int p = 10; p < 12; p++) {
        sendGroup(producer, "p" + p, K);
      }
      for (int i = 2; i < K; i++) {
        RoundTrip.send(producer, TOPICS.samples(), "p9", sample("p9", i, String.valueOf(i % 2 == 0 ? 19 : 119 + i)));
      }
      producer.flush();
      try (RewardsApp app = start()) {
        awaitCount(TOPICS.preferences(), 12 * 3);
        awaitCount(TOPICS.rewards(), 48 + 12 * K);
        Thread.sleep(2000); // anything emitted twice would show up by now
      }
    }
    List<Reward> rewards = values(TOPICS.rewards());
    assertEquals(48 + 12 * K, rewards.size());
    assertEquals(rewards.size(), rewards.stream().map(r -> r.getSampleId() + "/" + r.getKind()).distinct().count());
    Map<RewardKind, Long> byKind = rewards.stream().collect(Collectors.groupingBy(Reward::getKind, Collectors.counting()));
    assertEquals(48L, byKind.get(RewardKind.OUTCOME));
    assertEquals(24L, rewards.stream().filter(r -> r.getKind() == RewardKind.OUTCOME && r.getValue() == 1.0).count());

    List<PreferencePair> pairs = values(TOPICS.preferences());
    assertEquals(pairs.size(), pairs.stream().map(PreferencePair::getPairId).distinct().count(), "a pair twice");
    Map<PairKind, Long> pairKinds = pairs.stream().collect(Collectors.groupingBy(PreferencePair::getKind, Collectors.counting()));
    assertEquals(Map.of(PairKind.OUTCOME, 24L, PairKind.JUDGE, 12L), pairKinds);
    List<SftExample> sft = values(TOPICS.sftExamples());
    assertEquals(24, sft.size());
    assertEquals(24, sft.stream().map(SftExample::getSampleId).distinct().count());
    assertTrue(sft.stream().anyMatch(s -> s.getProblemId().equals("p9")), "p9 completed after the restart");

    List<DeadLetter> letters = values(TOPICS.deadLetters());
    assertEquals(1, letters.size(), letters.toString());
    assertEquals(TOPICS.samples().name(), letters.get(0).getTopic());
    assertTrue(letters.get(0).getError().startsWith("cannot decode"), letters.get(0).getError());
    assertEquals("poison", StandardCharsets.UTF_8.decode(letters.get(0).getRaw()).toString());
    // Incorrect samples asked the sampler to explore their first step.
    List<String> requested = values(TOPICS.exploreRequests()).stream().map(r -> r.getSampleId() + "@" + r.getStepIndex()).sorted().toList();
    assertEquals(24, requested.size(), requested.toString());
  }

  /**
   * The checkpoints topic feeds a global store on every instance: a record there without a key,
   * or that does not decode, must not stop the application (a global thread that fails takes the
   * whole instance down); later checkpoints still apply.
   */
  @Test
  void anUnkeyedOrUndecodableCheckpointDoesNotStopTheApplication() throws Exception {
    Topics topics = Topics.withPrefix("rwc.");
    RoundTrip.createTopics(broker.bootstrap(), topics);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(broker.bootstrap()),
        new ByteArraySerializer(), new ByteArraySerializer());
         RewardsApp app = start(topics, Map.of(RewardsConfig.APPLICATION_ID, "rewards-it-checkpoints",
             RewardsConfig.MAX_POLICY_LAG, 2, RewardsConfig.JUDGE, "none"))) {
      RoundTrip.send(producer, topics.problems(), "c0", problem("c0", "10"));
      Checkpoint v10 = Checkpoint.newBuilder().setVersion(10).setUri("u").setSha256("0")
          .setConsumedOffsets(List.of()).setCreatedAt(Instant.now()).build();
      byte[] encoded = topics.checkpoints().value().serializer().serialize(topics.checkpoints().name(), v10);
      producer.send(new ProducerRecord<>(topics.checkpoints().name(), null, encoded));
      producer.send(new ProducerRecord<>(topics.checkpoints().name(), "tiny".getBytes(StandardCharsets.UTF_8),
          "not avro".getBytes(StandardCharsets.UTF_8)));
      RoundTrip.send(producer, topics.checkpoints(), "tiny", v10);
      producer.flush();
      Thread.sleep(2000); // the global thread applies the checkpoints before the samples arrive
      Sample stale = sample("c0", 0, "10");
      stale.setSampleId("c0-stale");
      stale.setPolicyVersion(7);
      RoundTrip.send(producer, topics.samples(), "c0", stale);
      Sample fresh = sample("c0", 1, "10");
      fresh.setPolicyVersion(8);
      RoundTrip.send(producer, topics.samples(), "c0", fresh);
      producer.flush();
      long deadline = System.currentTimeMillis() + 60_000;
      List<Reward> rewards = List.of();
      while (rewards.isEmpty() && System.currentTimeMillis() < deadline) {
        Thread.sleep(250);
        rewards = RoundTrip.values(broker.bootstrap(), topics.rewards());
      }
      assertEquals(KafkaStreams.State.RUNNING, app.state());
      assertEquals(List.of("c0-s1"), rewards.stream().map(Reward::getSampleId).toList(),
          "version 10 applied: version 7 is stale, version 8 is not");
    }
  }

  /**
   * A pair holds two completions: two samples that each fit a request make a pair that does not
   * (the producer's max.request.size, 1 MiB). The oversized output must go to the dead letters with
   * its reason, not stop the application (which would stop again on the same input after every
   * restart), and the groups after it must still close.
   */
  @Test
  void anOutputTooLargeToProduceIsADeadLetterAndTheApplicationCarriesOn() throws Exception {
    Topics topics = Topics.withPrefix("rwl.");
    RoundTrip.createTopics(broker.bootstrap(), topics);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(broker.bootstrap()),
        new ByteArraySerializer(), new ByteArraySerializer());
         RewardsApp app = start(topics, Map.of(RewardsConfig.APPLICATION_ID, "rewards-it-large",
             RewardsConfig.EXPECTED_K, 2, RewardsConfig.JUDGE, "none"))) {
      RoundTrip.send(producer, topics.problems(), "big", problem("big", "10"));
      RoundTrip.send(producer, topics.problems(), "small", problem("small", "10"));
      producer.flush();
      List<String> longSteps = new java.util.ArrayList<>();
      for (int i = 0; i < 600; i++) {
        longSteps.add(i + "x".repeat(1000)); // ~600 KB of words, one word a step: the pair holds two
      }
      for (int seed = 0; seed < 2; seed++) {
        Sample s = sample("big", seed, seed == 0 ? "10" : "11");
        s.setSteps(longSteps.stream().map(step -> step + "s" + s.getSeed()).toList());
        RoundTrip.send(producer, topics.samples(), "big", s);
        producer.flush(); // one sample a request
      }
      RoundTrip.send(producer, topics.samples(), "small", sample("small", 0, "10"));
      RoundTrip.send(producer, topics.samples(), "small", sample("small", 1, "11"));
      producer.flush();
      long deadline = System.currentTimeMillis() + 60_000;
      List<PreferencePair> pairs = List.of();
      List<DeadLetter> letters = List.of();
      while ((pairs.isEmpty() || letters.isEmpty()) && System.currentTimeMillis() < deadline) {
        Thread.sleep(250);
        pairs = RoundTrip.values(broker.bootstrap(), topics.preferences());
        letters = RoundTrip.values(broker.bootstrap(), topics.deadLetters());
      }
      assertEquals(KafkaStreams.State.RUNNING, app.state());
      assertEquals(List.of("small"), pairs.stream().map(PreferencePair::getProblemId).toList(),
          "the group after the oversized pair still closed");
      assertEquals(1, letters.size(), letters.toString());
      DeadLetter letter = letters.get(0);
      assertTrue(letter.getError().contains("too large") && letter.getError().contains(topics.preferences().name()),
          letter.getError());
      assertTrue(letter.getRaw().remaining() < 64 * 1024, "the letter carries an excerpt, not the record: "
          + letter.getRaw().remaining() + " bytes");
      assertEquals(4, RoundTrip.values(broker.bootstrap(), topics.rewards()).size(), "every sample's OUTCOME reward");
    }
  }

  /** {@code n} samples of a problem: even seeds correct (distinct texts), odd seeds wrong. */
  private static void sendGroup(KafkaProducer<byte[], byte[]> producer, String problemId, int n) {
    int gold = 10 + Integer.parseInt(problemId.substring(1));
    for (int i = 0; i < n; i++) {
      RoundTrip.send(producer, TOPICS.samples(), problemId, sample(problemId, i, String.valueOf(i % 2 == 0 ? gold : gold + 100 + i)));
    }
  }

  private static Problem problem(String id, String gold) {
    return Problem.newBuilder().setId(id).setSource("it").setQuestion("Question " + id).setGoldAnswer(gold)
        .setTask("arithmetic").setCreatedAt(Instant.now()).build();
  }

  private static Sample sample(String problemId, int seed, String answer) {
    return Sample.newBuilder().setSampleId(problemId + "-s" + seed).setProblemId(problemId).setPolicyVersion(1)
        .setPrompt("Question " + problemId).setSteps(List.of("Seed " + seed + " thinks.", "Then " + "more ".repeat(seed)))
        .setAnswer("#### " + answer).setSumLogProb(-1).setSeed(seed).setSamplerId("it")
        .setTimings(new SampleTimings(0L, 0L, 0, 0)).setCreatedAt(Instant.now()).build();
  }

  private static <V> List<V> values(Topic<String, V> topic) throws Exception {
    return RoundTrip.values(broker.bootstrap(), topic);
  }

  private static void awaitCount(Topic<String, ?> topic, int count) throws Exception {
    long deadline = System.currentTimeMillis() + 90_000;
    int seen = 0;
    while (System.currentTimeMillis() < deadline) {
      seen = values(topic).size();
      if (seen >= count) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError(topic.name() + ": " + seen + " records after 90 s, expected " + count);
  }
}
