package io.thinkstream.streams;

import static io.thinkstream.streams.Driver.TOPICS;
import static io.thinkstream.streams.Driver.problem;
import static io.thinkstream.streams.Driver.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.ExploreResult;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** First pit from scripted exploration results: the sampler's side is played by the test. */
class PitSearchTest {
  private static final List<String> STEPS = List.of("5+3=<<5+3=8>>8 apples", "8*2=<<8*2=17>>17 halves",
      "17-1=<<17-1=16>>16 left", "So 16");

  @TempDir Path state;

  private static Driver driver(String mode, Path state) {
    return new Driver(RewardsConfig.of(Map.of(RewardsConfig.EXPLORE_MODE, mode, RewardsConfig.EXPECTED_K, 1)), state);
  }

  /** What a sampler answers: completions only, since it holds no gold answers (correctCount -1). */
  private static ExploreResult result(int step, String... completions) {
    return new ExploreResult("s", step, List.of(completions), -1);
  }

  @Test
  void sequentialSearchAsksOnePrefixAtATimeAndFindsThePit() {
    try (Driver d = driver("sequential", state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "15"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "s", 1, STEPS, "#### 16"));
      TestOutputTopic<String, ExploreRequest> requests = d.output(TOPICS.exploreRequests());
      ExploreRequest first = requests.readValue();
      assertEquals(1, first.getStepIndex());
      assertEquals("Q p\n<think1>" + STEPS.get(0) + "\n", first.getPrefix());
      assertEquals(4, first.getK());
      assertEquals(0, requests.getQueueSize(), "sequential: one prefix at a time");

      TestInputTopic<String, ExploreResult> results = d.input(TOPICS.exploreResults());
      results.pipeInput("s", result(1, "8*2=16 halves\n16-1=15\n#### 15", "#### 15", "#### 14", "wrong #### 3"));
      assertEquals(2, requests.readValue().getStepIndex());
      results.pipeInput("s", result(2, "#### 17", "#### 16", "#### 16", "#### 18"));
      assertEquals(0, requests.getQueueSize(), "the pit ends the search");

      List<Reward> pit = d.output(TOPICS.rewards()).readValuesToList().stream()
          .filter(r -> r.getKind() == RewardKind.FIRST_PIT).toList();
      assertEquals(1, pit.size());
      assertEquals(2, pit.get(0).getPitStep());
      assertEquals(0.25, pit.get(0).getValue(), 1e-9);
      PreferencePair pair = d.output(TOPICS.preferences()).readValuesToList().stream()
          .filter(p -> p.getKind() == PairKind.PIT).findFirst().orElseThrow();
      assertEquals("Q p\n<think1>" + STEPS.get(0) + "\n", pair.getPrompt());
      assertEquals(STEPS.get(1), pair.getRejected());
      assertEquals("#### 15", pair.getChosen(), "the shortest correct completion of the previous prefix");
      try (var deadlines = d.driver.getKeyValueStore(RewardsTopology.PIT_DEADLINES_STORE).all()) {
        assertEquals(false, deadlines.hasNext(), "a finished search leaves no deadline behind");
      }
    }
  }

  @Test
  void parallelSearchAsksEveryPrefixAndWaitsForTheEarliestPit() {
    try (Driver d = driver("parallel", state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "15"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "s", 1, STEPS, "#### 16"));
      assertEquals(List.of(1, 2, 3, 4), d.output(TOPICS.exploreRequests()).readValuesToList().stream()
          .map(ExploreRequest::getStepIndex).toList());
      TestInputTopic<String, ExploreResult> results = d.input(TOPICS.exploreResults());
      results.pipeInput("s", result(3));
      results.pipeInput("s", result(2, "#### 15"));
      TestOutputTopic<String, Reward> rewards = d.output(TOPICS.rewards());
      assertEquals(0, rewards.readValuesToList().stream().filter(r -> r.getKind() == RewardKind.FIRST_PIT).count(),
          "step 1 unknown yet");
      results.pipeInput("s", result(1, "#### 15"));
      Reward pit = rewards.readValue();
      assertEquals(3, pit.getPitStep());
    }
  }

  @Test
  void aPitAtStepOnePairsWithTheReferenceSolutionAndNoPitMeansFullCredit() {
    try (Driver d = driver("sequential", state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "15"));
      d.input(TOPICS.samples()).pipeInput("p", sample("p", "s", 1, STEPS, "#### 16"));
      d.input(TOPICS.exploreResults()).pipeInput("s", result(1));
      Reward pit = d.output(TOPICS.rewards()).readValuesToList().stream()
          .filter(r -> r.getKind() == RewardKind.FIRST_PIT).findFirst().orElseThrow();
      assertEquals(1, pit.getPitStep());
      // The test problem has no reference solution, so there is no chosen side and no pair.
      assertEquals(0, d.output(TOPICS.preferences()).readValuesToList().stream()
          .filter(p -> p.getKind() == PairKind.PIT).count());

      d.input(TOPICS.samples()).pipeInput("p", sample("p", "t", 1, List.of("one step"), "#### 3"));
      d.output(TOPICS.exploreRequests()).readValuesToList();
      d.input(TOPICS.exploreResults()).pipeInput("t", new ExploreResult("t", 1, List.of("#### 15"), -1));
      Reward none = d.output(TOPICS.rewards()).readValuesToList().stream()
          .filter(r -> r.getKind() == RewardKind.FIRST_PIT).findFirst().orElseThrow();
      assertNull(none.getPitStep());
      assertEquals(1.0, none.getValue());
    }
  }
}
