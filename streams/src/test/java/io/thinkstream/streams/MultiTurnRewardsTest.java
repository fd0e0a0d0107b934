package io.thinkstream.streams;

import static io.thinkstream.streams.Driver.TOPICS;
import static io.thinkstream.streams.Driver.problem;
import static io.thinkstream.streams.Driver.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.FollowUp;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampledTurn;
import io.thinkstream.avro.SftExample;
import io.thinkstream.avro.SftTurn;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.TestInputTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-turn samples through {@link RewardsTopology}: correct only when every turn's answer
 * verifies against its own gold, and then an SFT example that carries the later turns.
 */
class MultiTurnRewardsTest {
  private static final String FOLLOW_UP = "Now add 4 to that.";

  @TempDir Path state;

  /** A two-turn problem: 3, then 3 + 4 = 7 (the second turn's gold may be absent). */
  private static Problem twoTurns(String id, String secondGold) {
    return Problem.newBuilder(problem(id, "3")).setFollowUps(List.of(new FollowUp(FOLLOW_UP, secondGold))).build();
  }

  /** A sample of {@link #twoTurns} whose first turn is right and whose later turns answer {@code later}. */
  private static Sample answered(String problemId, String sampleId, String... later) {
    List<SampledTurn> turns = java.util.Arrays.stream(later)
        .map(a -> new SampledTurn(FOLLOW_UP, List.of("3+4=<<3+4=" + a + ">>" + a), "#### " + a, -1.0, 9, 4)).toList();
    return Sample.newBuilder(sample(problemId, sampleId, 1, List.of("She has 3 coins."), "#### 3"))
        .setFollowUps(turns).build();
  }

  private static Map<String, Reward> rewards(Driver d) {
    Map<String, Reward> out = new HashMap<>();
    d.output(TOPICS.rewards()).readValuesToList().forEach(r -> out.put(r.getSampleId(), r));
    return out;
  }

  @Test
  void aSampleWithEveryTurnRightBecomesAnSftExampleWithItsFollowUpAndOneWrongInTurnTwoDoesNot() {
    try (Driver d = new Driver(RewardsConfig.of(Map.of(RewardsConfig.EXPECTED_K, 2)), state)) {
      d.input(TOPICS.problems()).pipeInput("m", twoTurns("m", "7"));
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("m", answered("m", "right", "7"));
      samples.pipeInput("m", answered("m", "wrong-2", "8"));

      Map<String, Reward> rewards = rewards(d);
      assertEquals(1.0, rewards.get("right").getValue(), rewards.get("right").getDetails().toString());
      assertEquals("true", rewards.get("right").getDetails().get("turn2.correct"));
      Reward wrong = rewards.get("wrong-2");
      assertEquals(0.0, wrong.getValue(), "turn 1 is right, turn 2 is not: the sample is not correct");
      assertEquals("true", wrong.getDetails().get("turn1.correct"));
      assertEquals("false", wrong.getDetails().get("turn2.correct"));
      assertEquals("8", wrong.getDetails().get("turn2.extracted"));

      List<SftExample> examples = d.output(TOPICS.sftExamples()).readValuesToList();
      assertEquals(List.of("right"), examples.stream().map(SftExample::getSampleId).toList());
      SftExample e = examples.get(0);
      assertEquals("She has 3 coins.\n#### 3", e.getCompletion());
      assertEquals(List.of(new SftTurn(FOLLOW_UP, "3+4=<<3+4=7>>7\n#### 7")), e.getFollowUps());
      assertEquals(0, d.output(TOPICS.preferences()).getQueueSize(),
          "no outcome pair: the wrong sample's first turn, the one a pair holds, is right");
      assertEquals(0, d.output(TOPICS.deadLetters()).getQueueSize());
    }
  }

  @Test
  void aGroupWhoseSamplesMissTheSecondTurnYieldsNoSftExample() {
    try (Driver d = new Driver(RewardsConfig.of(Map.of(RewardsConfig.EXPECTED_K, 2)), state)) {
      d.input(TOPICS.problems()).pipeInput("m", twoTurns("m", "7"));
      TestInputTopic<String, Sample> samples = d.input(TOPICS.samples());
      samples.pipeInput("m", answered("m", "wrong-2", "8"));
      samples.pipeInput("m", answered("m", "unanswered")); // the sampler's sample of turn 1 only

      Map<String, Reward> rewards = rewards(d);
      assertEquals(0.0, rewards.get("wrong-2").getValue());
      assertEquals(0.0, rewards.get("unanswered").getValue());
      assertEquals("1", rewards.get("unanswered").getDetails().get("answeredTurns"));
      assertEquals(0, d.output(TOPICS.sftExamples()).getQueueSize());
    }
  }

  @Test
  void aTurnWithoutGoldLeavesTheSampleUnlabelled() {
    try (Driver d = new Driver(RewardsConfig.of(Map.of(RewardsConfig.EXPECTED_K, 1)), state)) {
      d.input(TOPICS.problems()).pipeInput("u", twoTurns("u", null));
      d.input(TOPICS.samples()).pipeInput("u", answered("u", "s", "7"));
      assertTrue(rewards(d).isEmpty(), "an unlabelled sample has no OUTCOME reward");
      assertEquals(0, d.output(TOPICS.sftExamples()).getQueueSize());
      assertEquals(0, d.output(TOPICS.preferences()).getQueueSize());
    }
  }
}
