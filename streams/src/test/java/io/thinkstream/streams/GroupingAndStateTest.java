package io.thinkstream.streams;

import static io.thinkstream.streams.Driver.TOPICS;
import static io.thinkstream.streams.Driver.problem;
import static io.thinkstream.streams.Driver.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.ExploreResult;
import io.thinkstream.avro.JudgeRequest;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.SftExample;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.streams.internal.GroupProcessor;
import io.thinkstream.streams.internal.OutcomePairs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TestInputTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Groups per (problem, policy version), unlabelled traffic through the judge, samples that wait
 * for their problem, and the bounds on state: evicted searches, timed-out judges, failed builders.
 */
class GroupingAndStateTest {
  @TempDir Path state;

  private static RewardsConfig.Settings settings(Map<String, Object> overrides) {
    return RewardsConfig.of(overrides);
  }

  /** Scores a response by its length: any labelled or unlabelled response gets a score. */
  private static final Judge BY_LENGTH = new Judge() {
    @Override
    public String id() {
      return "by-length";
    }

    @Override
    public Judgement judge(String prompt, String response, Optional<String> gold) {
      return response.contains("???") ? new Unparseable(response) : new Scored(response.length() % 10);
    }
  };

  @Test
  void groupsOfTwoPolicyVersionsOfOneProblemStayApart() {
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.EXPECTED_K, 2)), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "6"));
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("p", sample("p", "v1-right", 1, List.of("2*3=6"), "#### 6"));
      samples.pipeInput("p", sample("p", "v2-right", 2, List.of("3+3=6"), "#### 6"));
      samples.pipeInput("p", sample("p", "v1-wrong", 1, List.of("2+3=5"), "#### 5"));
      samples.pipeInput("p", sample("p", "v2-wrong", 2, List.of("3*3=9"), "#### 9"));

      List<PreferencePair> pairs = d.output(TOPICS.preferences()).readValuesToList();
      assertEquals(List.of(List.of("v1-right", "v1-wrong"), List.of("v2-right", "v2-wrong")),
          pairs.stream().map(PreferencePair::getSourceSampleIds).toList());
      assertEquals(List.of(1L, 2L), pairs.stream().map(PreferencePair::getPolicyVersion).toList());
      List<JudgeRequest> requests = d.output(TOPICS.judgeRequests()).readValuesToList();
      assertEquals(2, requests.size());
      for (JudgeRequest r : requests) {
        assertTrue(r.getItems().stream().allMatch(i -> i.getSampleId().startsWith("v" + r.getPolicyVersion())),
            "a judge request mixes policies: " + r);
      }
    }
  }

  @Test
  void anUnlabelledGroupIsJudgedIntoJudgePairs() {
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.EXPECTED_K, 3)), state)) {
      d.input(TOPICS.problems()).pipeInput("u", problem("u", null));
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("u", sample("u", "a", 1, List.of("think"), "A short reply."));
      samples.pipeInput("u", sample("u", "b", 1, List.of("think"), "A longer reply, sir."));
      samples.pipeInput("u", sample("u", "c", 1, List.of("think"), "???"));
      assertEquals(0, d.output(TOPICS.rewards()).getQueueSize(), "no OUTCOME reward without gold");
      assertEquals(0, d.output(TOPICS.exploreRequests()).getQueueSize(), "no first-pit search without gold");

      assertEquals(1, d.judge(BY_LENGTH));
      List<Reward> rewards = d.output(TOPICS.rewards()).readValuesToList();
      assertEquals(List.of(RewardKind.JUDGE, RewardKind.JUDGE, RewardKind.JUDGE),
          rewards.stream().map(Reward::getKind).toList());
      List<PreferencePair> pairs = d.output(TOPICS.preferences()).readValuesToList();
      assertEquals(1, pairs.size());
      assertEquals(PairKind.JUDGE, pairs.get(0).getKind());
      assertEquals("c", pairs.get(0).getSourceSampleIds().get(1), "unparseable is rejected");
    }
  }

  @Test
  void aSampleOfAProblemNotSeenYetWaitsForIt() {
    try (Driver d = new Driver(settings(Map.of()), state)) {
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "early", 1, List.of("2+2=<<2+2=4>>4"), "#### 4"));
      d.driver.advanceWallClockTime(Duration.ofSeconds(5));
      assertEquals(0, d.output(TOPICS.rewards()).getQueueSize());
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "4"));
      d.driver.advanceWallClockTime(Duration.ofSeconds(2));
      Reward r = d.output(TOPICS.rewards()).readValue();
      assertEquals("early", r.getSampleId());
      assertEquals(1.0, r.getValue());
      assertEquals(0, d.output(TOPICS.deadLetters()).getQueueSize());
      assertEquals(0, count(d, RewardsTopology.WAITING_STORE));
    }
  }

  @Test
  void anUnansweredPitSearchIsEvictedAfterItsTimeoutAndCounted() {
    Map<String, Object> config = Map.of(RewardsConfig.EXPECTED_K, 1, RewardsConfig.EXPLORE_TIMEOUT_MS, 10_000L);
    try (Driver d = new Driver(settings(config), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "15"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "s", 1, List.of("a", "b", "c", "d"), "#### 16"));
      d.input(TOPICS.exploreResults()).pipeInput("s", new ExploreResult("s", 1, List.of("#### 15"), -1));
      assertEquals(List.of(1, 2), d.output(TOPICS.exploreRequests()).readValuesToList().stream()
          .map(ExploreRequest::getStepIndex).toList());
      assertEquals(1, count(d, RewardsTopology.PIT_DEADLINES_STORE));
      d.driver.advanceWallClockTime(Duration.ofSeconds(5));
      assertTrue(pitRewards(d).isEmpty());
      d.driver.advanceWallClockTime(Duration.ofSeconds(6));

      List<Reward> pit = pitRewards(d);
      assertEquals(1, pit.size());
      assertNull(pit.get(0).getPitStep());
      assertEquals(0.25, pit.get(0).getValue(), 1e-9, "prefix 1 of 4 still reached the answer");
      assertTrue(pit.get(0).getDetails().get("evicted").contains("10000 ms"), pit.get(0).getDetails().toString());
      assertEquals(1.0, metric(d, "pit-search-evicted-total"));
      assertEquals(0, count(d, RewardsTopology.PIT_STORE));
      assertEquals(0, count(d, RewardsTopology.PIT_DEADLINES_STORE));
    }
  }

  @Test
  void aSearchWrittenBeforeTheDeadlineStoreExistedIsEvictedToo() {
    Map<String, Object> config = Map.of(RewardsConfig.EXPECTED_K, 1, RewardsConfig.EXPLORE_TIMEOUT_MS, 10_000L);
    try (Driver d = new Driver(settings(config), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "15"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "s", 1, List.of("a", "b"), "#### 16"));
      // what a store restored from a release without deadlines holds: the search alone
      var deadlines = d.driver.<String, String>getKeyValueStore(RewardsTopology.PIT_DEADLINES_STORE);
      List<String> keys = new java.util.ArrayList<>();
      deadlines.all().forEachRemaining(kv -> keys.add(kv.key));
      keys.forEach(deadlines::delete);
      d.driver.advanceWallClockTime(Duration.ofSeconds(5));
      assertTrue(pitRewards(d).isEmpty());
      assertEquals(1, count(d, RewardsTopology.PIT_DEADLINES_STORE), "the first sweep indexed it");
      d.driver.advanceWallClockTime(Duration.ofSeconds(6));
      assertEquals(1, pitRewards(d).size());
      assertEquals(0, count(d, RewardsTopology.PIT_STORE));
      assertEquals(0, count(d, RewardsTopology.PIT_DEADLINES_STORE));
    }
  }

  @Test
  void aJudgeThatNeverAnswersClosesTheGroupWithoutJudgePairs() {
    Map<String, Object> config = Map.of(RewardsConfig.EXPECTED_K, 2, RewardsConfig.JUDGE_RESULT_TIMEOUT_MS, 20_000L);
    try (Driver d = new Driver(settings(config), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "6"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "a", 1, List.of("2*3=6"), "#### 6"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "b", 1, List.of("2+3=5"), "#### 5"));
      assertEquals(1, d.output(TOPICS.judgeRequests()).getQueueSize());
      d.driver.advanceWallClockTime(Duration.ofSeconds(21));
      assertEquals(1.0, metric(d, "judge-timed-out-total"));
      assertEquals(0, count(d, RewardsTopology.JUDGE_GROUPS_STORE));
      assertEquals(1, d.judge(new VerifierJudge()), "a late answer");
      assertTrue(d.output(TOPICS.preferences()).readValuesToList().stream().noneMatch(p -> p.getKind() == PairKind.JUDGE));
    }
  }

  /** Outputs over rewards.max.output.bytes become dead letters with their first bytes; later groups still pair. */
  @Test
  void anOutputOverTheSizeLimitIsADeadLetterAndLaterGroupsStillPair() {
    try (Driver d = new Driver(settings(Map.of(RewardsConfig.EXPECTED_K, 2, RewardsConfig.MAX_OUTPUT_BYTES, 2048)),
        state)) {
      d.input(TOPICS.problems()).pipeInput("big", problem("big", "6"));
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "6"));
      String long1 = "a".repeat(1200);
      String long2 = "b".repeat(1200);
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("big", sample("big", "big-right", 1, List.of(long1, "2*3=6"), "#### 6"));
      samples.pipeInput("big", sample("big", "big-wrong", 1, List.of(long2, "2+3=5"), "#### 5"));
      samples.pipeInput("p", sample("p", "right", 1, List.of("2*3=6"), "#### 6"));
      samples.pipeInput("p", sample("p", "wrong", 1, List.of("2+3=5"), "#### 5"));

      assertEquals(List.of(List.of("right", "wrong")), d.output(TOPICS.preferences()).readValuesToList().stream()
          .map(PreferencePair::getSourceSampleIds).toList(), "the two 1.2 KB completions make a pair over 2 KB");
      // the pair, and the group on its way to the judge (all its samples): both over 2 KB
      List<DeadLetter> letters = d.output(TOPICS.deadLetters()).readValuesToList();
      assertEquals(List.of(TOPICS.preferences().name(), "rewards-test-judge-by-group-repartition"), letters.stream()
          .map(l -> l.getError().substring("cannot produce to ".length(), l.getError().indexOf(" (value)"))).toList(),
          letters.toString());
      for (DeadLetter letter : letters) {
        assertTrue(letter.getError().contains("TooLarge: record too large") && letter.getError().contains(
            "rewards.max.output.bytes is 2048"), letter.getError());
        assertEquals(TOPICS.samples().name(), letter.getTopic());
        String excerpt = java.nio.charset.StandardCharsets.ISO_8859_1.decode(letter.getRaw()).toString();
        assertTrue(excerpt.contains("aaaa") && excerpt.contains("bbbb"), "the letter holds the record's bytes");
      }
      assertEquals(List.of("big-right", "right"), d.output(TOPICS.sftExamples()).readValuesToList().stream()
          .map(SftExample::getSampleId).toList(), "what fits is produced");
    }
  }

  @Test
  void aThrowingPairBuilderSendsTheWholeGroupToDeadLetters() {
    RewardsConfig.Settings s = settings(Map.of(RewardsConfig.EXPECTED_K, 3));
    GroupProcessor.Builder boom = group -> {
      throw new IllegalStateException("boom on " + group.size());
    };
    try (Driver d = new Driver(s, state, b -> RewardsTopology.build(b, TOPICS, s,
        settings -> List.of(new OutcomePairs(8, RewardsTopology.SFT_SEEN_STORE), boom)))) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "6"));
      for (String id : List.of("a", "b", "c")) {
        d.input(TOPICS.samples()).pipeInput("p", sample("p", id, 1, List.of("2*3=6"), "#### 6"));
      }
      List<DeadLetter> letters = d.output(TOPICS.deadLetters()).readValuesToList();
      assertEquals(3, letters.size());
      for (DeadLetter letter : letters) {
        assertTrue(letter.getError().contains("of 3 samples failed in its pair builders: IllegalStateException: boom on 3"),
            letter.getError());
        assertEquals(TOPICS.samples().name(), letter.getTopic());
        assertTrue(letter.getRaw().remaining() > 10, "the sample is in the letter");
      }
      assertEquals(0, d.output(TOPICS.sftExamples()).getQueueSize(), "nothing half-made");
      assertEquals(0, d.output(TOPICS.judgeRequests()).getQueueSize());
      assertEquals(0, count(d, RewardsTopology.GROUPS_STORE));
      assertEquals(0, count(d, RewardsTopology.GROUP_SAMPLES_STORE));
    }
  }

  @Test
  void fractionAndFloorDivisionAnnotationsVerify() {
    try (Driver d = new Driver(settings(Map.of()), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "60"));
      List<String> steps = List.of("The wires are <<3/4=3/4>>3/4 of the total", "Total 45*4/3=<<45*4/3=60>>60",
          "In pairs: <<60//2=30>>30");
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "s", 1, steps, "#### 60"));
      Reward r = d.output(TOPICS.rewards()).readValue();
      assertEquals(1.0, r.getValue());
      assertEquals("3", r.getDetails().get("annotations"));
      assertEquals("3", r.getDetails().get("annotationsOk"), r.getDetails().toString());
    }
  }

  private static int count(Driver d, String store) {
    int n = 0;
    try (var all = d.driver.<String, Object>getKeyValueStore(store).all()) {
      while (all.hasNext()) {
        all.next();
        n++;
      }
    }
    return n;
  }

  private static List<Reward> pitRewards(Driver d) {
    return d.output(TOPICS.rewards()).readValuesToList().stream()
        .filter(r -> r.getKind() == RewardKind.FIRST_PIT).toList();
  }

  private static double metric(Driver d, String name) {
    Map<MetricName, ? extends Metric> metrics = d.driver.metrics();
    return metrics.entrySet().stream().filter(e -> e.getKey().name().equals(name))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
  }
}
