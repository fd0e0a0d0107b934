package io.thinkstream.streams;

import static io.thinkstream.streams.Driver.TOPICS;
import static io.thinkstream.streams.Driver.problem;
import static io.thinkstream.streams.Driver.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SftExample;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The verification, dedup, staleness, grouping and dead-letter paths of {@link RewardsTopology}. */
class RewardsTopologyTest {
  @TempDir Path state;

  private static RewardsConfig.Settings settings(Map<String, Object> overrides) {
    return RewardsConfig.of(overrides);
  }

  @Test
  void everyGsm8kGoldAnswerVerifiesAndACorruptedCopyDoesNot() throws Exception {
    List<SharedGsm8k.Row> rows = SharedGsm8k.read("test.jsonl");
    assertEquals(1319, rows.size());
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.EXPECTED_K, 2)), state)) {
      TestInputTopic<String, Problem> problems = d.input(TOPICS.problems());
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      for (int i = 0; i < rows.size(); i++) {
        Gsm8kSolution gold = Gsm8kSolution.parse(rows.get(i).answer());
        String id = "gsm-" + i;
        String answer = gold.finalAnswer().orElseThrow();
        problems.pipeInput(id, problem(id, answer));
        samples.pipeInput(id, sample(id, id + "-gold", 1, gold.steps(), "#### " + answer));
        String wrong = new java.math.BigDecimal(answer.replace(",", "")).add(java.math.BigDecimal.ONE).toPlainString();
        samples.pipeInput(id, sample(id, id + "-bad", 1, gold.steps(), "#### " + wrong));
      }
      Map<String, Reward> rewards = new HashMap<>();
      d.output(TOPICS.rewards()).readValuesToList().forEach(r -> rewards.put(r.getSampleId(), r));
      int annotations = 0;
      int annotationsOk = 0;
      for (int i = 0; i < rows.size(); i++) {
        Reward good = rewards.get("gsm-" + i + "-gold");
        Reward bad = rewards.get("gsm-" + i + "-bad");
        assertEquals(1.0, good.getValue(), "row " + (i + 1) + ": " + good.getDetails());
        assertEquals("HASHES", good.getDetails().get("method"));
        assertEquals(0.0, bad.getValue(), "row " + (i + 1) + ": " + bad.getDetails());
        annotations += Integer.parseInt(good.getDetails().get("annotations"));
        annotationsOk += Integer.parseInt(good.getDetails().get("annotationsOk"));
      }
      assertEquals(2 * rows.size(), rewards.size());
      assertTrue(annotations > 3000, "annotations " + annotations);
      assertTrue(annotationsOk >= annotations * 0.99, annotationsOk + " of " + annotations + " annotations ok");
      // K = 2: every problem's group closes with one right and one wrong sample.
      assertEquals(rows.size(), d.output(TOPICS.sftExamples()).getQueueSize());
      List<PreferencePair> pairs = d.output(TOPICS.preferences()).readValuesToList();
      assertEquals(rows.size(), pairs.size());
      pairs.forEach(p -> assertEquals(PairKind.OUTCOME, p.getKind()));
      assertEquals(0, d.output(TOPICS.deadLetters()).getQueueSize());
    }
  }

  @Test
  void aRetriedSampleCountsOnce() {
    try (Driver d = new Driver(settings(Map.of()), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "4"));
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      Sample s = sample("p", "s1", 1, List.of("2+2=<<2+2=4>>4"), "The answer is 4.");
      samples.pipeInput("p", s);
      samples.pipeInput("p", s);
      samples.pipeInput("p", sample("p", "s2", 1, List.of("2*2=<<2*2=4>>4"), "The answer is 4."));
      List<Reward> rewards = d.output(TOPICS.rewards()).readValuesToList();
      assertEquals(List.of("s1", "s2"), rewards.stream().map(Reward::getSampleId).toList());
      assertEquals("ANSWER_IS", rewards.get(0).getDetails().get("method"));
    }
  }

  @Test
  void staleSamplesAreDroppedAndCounted() {
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.MAX_POLICY_LAG, 2)), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "4"));
      d.input(TOPICS.checkpoints()).pipeInput("tiny", Checkpoint.newBuilder().setVersion(10).setUri("u")
          .setSha256("0").setConsumedOffsets(List.of()).setCreatedAt(Driver.T0).build());
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("p", sample("p", "old", 7, List.of("x"), "#### 4"));
      samples.pipeInput("p", sample("p", "old2", 7, List.of("y"), "#### 4"));
      samples.pipeInput("p", sample("p", "ok", 8, List.of("x"), "#### 4"));
      assertEquals(List.of("ok"), d.output(TOPICS.rewards()).readValuesToList().stream()
          .map(Reward::getSampleId).toList());
      KeyValueStore<String, Long> stale = d.driver.getKeyValueStore(RewardsTopology.STALE_STORE);
      assertEquals(2L, stale.get("7"));
    }
  }

  /**
   * Every task reads the checkpoints topic through a global store, whose thread has no dead-letter
   * path: a record there without a key, or that does not decode, is skipped and counted instead of
   * stopping the application, and the checkpoints after it still apply.
   */
  @Test
  void anUnkeyedOrUndecodableCheckpointIsSkippedAndLaterOnesApply() {
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.MAX_POLICY_LAG, 2)), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "4"));
      TestInputTopic<String, Checkpoint> checkpoints = d.input(TOPICS.checkpoints());
      Checkpoint v10 = Checkpoint.newBuilder().setVersion(10).setUri("u").setSha256("0")
          .setConsumedOffsets(List.of()).setCreatedAt(Driver.T0).build();
      checkpoints.pipeInput((String) null, v10);
      d.driver.createInputTopic(TOPICS.checkpoints().name(), new ByteArraySerializer(), new ByteArraySerializer())
          .pipeInput("tiny".getBytes(StandardCharsets.UTF_8), "not avro".getBytes(StandardCharsets.UTF_8));
      checkpoints.pipeInput("tiny", v10);
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("p", sample("p", "old", 7, List.of("x"), "#### 4"));
      samples.pipeInput("p", sample("p", "ok", 8, List.of("x"), "#### 4"));
      assertEquals(List.of("ok"), d.output(TOPICS.rewards()).readValuesToList().stream()
          .map(Reward::getSampleId).toList());
    }
  }

  @Test
  void poisonBytesAndFailingRecordsGoToDeadLettersAndProcessingContinues() {
    try (Driver d = new Driver(settings(Map.of()), state)) {
      TestInputTopic<byte[], byte[]> raw = d.driver.createInputTopic(TOPICS.samples().name(),
          new ByteArraySerializer(), new ByteArraySerializer());
      raw.pipeInput("p".getBytes(StandardCharsets.UTF_8), "not avro".getBytes(StandardCharsets.UTF_8));
      d.input(TOPICS.samples()).pipeInput("nope", sample("nope", "s0", 1, List.of("1"), "#### 1"));
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "4"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "s1", 1, List.of("2+2=4"), "#### 4"));
      assertEquals(1, d.output(TOPICS.deadLetters()).getQueueSize(), "a sample of an unseen problem waits first");
      d.driver.advanceWallClockTime(Duration.ofMillis(RewardsConfig.of(Map.of()).problemWait().toMillis() + 1000));

      List<DeadLetter> letters = d.output(TOPICS.deadLetters()).readValuesToList();
      assertEquals(2, letters.size(), letters.toString());
      assertEquals(TOPICS.samples().name(), letters.get(0).getTopic());
      assertEquals(0L, letters.get(0).getOffset());
      assertTrue(letters.get(0).getError().startsWith("cannot decode"), letters.get(0).getError());
      assertEquals("not avro", StandardCharsets.UTF_8.decode(letters.get(0).getRaw()).toString());
      assertEquals(1L, letters.get(1).getOffset());
      assertTrue(letters.get(1).getError().contains("not on the problems topic"), letters.get(1).getError());
      assertTrue(letters.get(1).getRaw().remaining() > 0, "the failing record's raw bytes");
      assertEquals(List.of("s1"), d.output(TOPICS.rewards()).readValuesToList().stream()
          .map(Reward::getSampleId).toList());
    }
  }

  @Test
  void groupsOfKBecomeSftExamplesAndOutcomePairsWithTheFarthestWrongSample() {
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.EXPECTED_K, 4)), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "12"));
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("p", sample("p", "good", 1, List.of("3*4=<<3*4=12>>12"), "#### 12"));
      samples.pipeInput("p", sample("p", "good-again", 1, List.of("3*4=<<3*4=12>>12"), "#### 12"));
      samples.pipeInput("p", sample("p", "near", 1, List.of("3*4=<<3*4=13>>13"), "#### 13"));
      assertEquals(0, d.output(TOPICS.preferences()).getQueueSize(), "group of 3 < K stays open");
      samples.pipeInput("p", sample("p", "far", 1, List.of("Add them up: 3+4+5+6=18 and halve it", "so 9"), "#### 9"));

      List<SftExample> sft = d.output(TOPICS.sftExamples()).readValuesToList();
      assertEquals(List.of("good"), sft.stream().map(SftExample::getSampleId).toList(), "distinct completions only");
      assertEquals("3*4=<<3*4=12>>12\n#### 12", sft.get(0).getCompletion());
      List<PreferencePair> pairs = d.output(TOPICS.preferences()).readValuesToList();
      assertEquals(1, pairs.size());
      assertEquals(List.of("good", "far"), pairs.get(0).getSourceSampleIds());
      assertEquals("Q p\n<think1>", pairs.get(0).getPrompt());
    }
  }

  @Test
  void sftExamplesStayDistinctAndCappedPerProblemAcrossGroups() {
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.EXPECTED_K, 2, RewardsConfig.SFT_MAX_PER_PROBLEM, 3)),
        state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "6"));
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("p", sample("p", "a", 1, List.of("2*3=6"), "#### 6"));
      samples.pipeInput("p", sample("p", "b", 1, List.of("3*2=6"), "#### 6"));
      samples.pipeInput("p", sample("p", "a2", 2, List.of("2*3=6"), "#### 6")); // same text as a, next version
      samples.pipeInput("p", sample("p", "c", 2, List.of("3+3=6"), "#### 6"));
      samples.pipeInput("p", sample("p", "d", 2, List.of("1+5=6"), "#### 6"));
      samples.pipeInput("p", sample("p", "e", 2, List.of("4+2=6"), "#### 6"));
      assertEquals(List.of("a", "b", "c"), d.output(TOPICS.sftExamples()).readValuesToList().stream()
          .map(SftExample::getSampleId).toList());
    }
  }

  @Test
  void aGroupShortOfKClosesAfterTheTimeout() {
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.EXPECTED_K, 8, RewardsConfig.GROUP_TIMEOUT_MS, 5000L)),
        state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "2"));
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("p", sample("p", "a", 1, List.of("1+1=2"), "#### 2"));
      samples.pipeInput("p", sample("p", "b", 1, List.of("1+1=3"), "#### 3"));
      d.driver.advanceWallClockTime(Duration.ofSeconds(2));
      assertEquals(0, d.output(TOPICS.preferences()).getQueueSize());
      d.driver.advanceWallClockTime(Duration.ofSeconds(4));
      List<PreferencePair> pairs = d.output(TOPICS.preferences()).readValuesToList();
      assertEquals(1, pairs.size());
      assertEquals(List.of("a", "b"), pairs.get(0).getSourceSampleIds());
    }
  }

  @Test
  void aLastNumberOnlyCompletionIsNotCorrect() {
    try (Driver d = new Driver(settings(Map.of()), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "1200"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "s", 1, List.of("It costs 2 * 600"), "so $1,200 in all"));
      Reward r = d.output(TOPICS.rewards()).readValue();
      assertEquals(RewardKind.OUTCOME, r.getKind());
      assertEquals(0.0, r.getValue(), "no stated final answer is never correct");
      assertEquals("LAST_NUMBER", r.getDetails().get("method"));
      assertEquals("$1,200", r.getDetails().get("extracted"), "the guess is still reported");
      assertTrue(r.getDetails().containsKey("unparseable"), r.getDetails().toString());
      assertEquals(0, d.output(TOPICS.sftExamples()).getQueueSize());
    }
  }

  @Test
  void aTombstoneAndBytesLeftOverAfterTheBodyAreDeadLetteredWithTheirReasons() {
    try (Driver d = new Driver(settings(Map.of()), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "4"));
      TestInputTopic<byte[], byte[]> raw = d.driver.createInputTopic(TOPICS.samples().name(),
          new ByteArraySerializer(), new ByteArraySerializer());
      raw.pipeInput("p".getBytes(StandardCharsets.UTF_8), (byte[]) null);
      byte[] one = TOPICS.samples().value().serializer().serialize("samples",
          sample("p", "s1", 1, List.of("2+2=4"), "#### 4"));
      raw.pipeInput("p".getBytes(StandardCharsets.UTF_8), java.util.Arrays.copyOf(one, one.length + 2));
      List<DeadLetter> letters = d.output(TOPICS.deadLetters()).readValuesToList();
      assertEquals(2, letters.size(), letters.toString());
      assertTrue(letters.get(0).getError().contains("null value (a tombstone)"), letters.get(0).getError());
      assertTrue(letters.get(1).getError().contains("2 bytes left over after the Avro body"), letters.get(1).getError());
      assertEquals(0, d.output(TOPICS.rewards()).getQueueSize());
    }
  }
}
