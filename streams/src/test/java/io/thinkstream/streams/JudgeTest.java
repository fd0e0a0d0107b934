package io.thinkstream.streams;

import static io.thinkstream.streams.Driver.TOPICS;
import static io.thinkstream.streams.Driver.problem;
import static io.thinkstream.streams.Driver.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JUDGE rewards and pairs follow the length-controlled score s = z(score) − ρ·z(length). */
class JudgeTest {
  private static final String LONG = "Nine. " + "Let me restate everything in great detail. ".repeat(7);
  private static final Map<String, Double> SCORES = Map.of(LONG.strip(), 9.0, "Eight, briefly.", 8.0,
      "Two, briefly!!", 2.0);

  @TempDir Path state;

  /** Scores scripted by response text; anything else is unparseable. Records what it was shown. */
  static final class ScriptedJudge implements Judge {
    final List<String> seen = new CopyOnWriteArrayList<>();

    @Override
    public String id() {
      return "scripted";
    }

    @Override
    public Judgement judge(String prompt, String response, Optional<String> gold) {
      seen.add(response);
      Double score = SCORES.get(response);
      return score == null ? new Unparseable("no score in: " + response) : new Scored(score);
    }
  }

  private List<PreferencePair> run(double rho, ScriptedJudge judge) {
    RewardsConfig.Settings settings = RewardsConfig.of(Map.of(RewardsConfig.EXPECTED_K, 4, RewardsConfig.JUDGE_RHO, rho));
    try (Driver d = new Driver(settings, Optional.of(judge), state.resolve("rho" + rho))) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "9"));
      var samples = d.input(TOPICS.samples());
      samples.pipeInput("p", sample("p", "long", 1, List.of("secret thought A"), LONG));
      samples.pipeInput("p", sample("p", "short", 1, List.of("secret thought B"), "Eight, briefly."));
      samples.pipeInput("p", sample("p", "bad", 1, List.of("secret thought C"), "Two, briefly!!"));
      samples.pipeInput("p", sample("p", "garbled", 1, List.of("secret thought D"), "???"));
      assertEquals(1, d.judge(judge), "one judge request per closed group");
      List<Reward> judged = d.output(TOPICS.rewards()).readValuesToList().stream()
          .filter(r -> r.getKind() == RewardKind.JUDGE).toList();
      assertEquals(4, judged.size());
      judged.forEach(r -> assertEquals("scripted", r.getJudgeId()));
      return d.output(TOPICS.preferences()).readValuesToList().stream()
          .filter(p -> p.getKind() == PairKind.JUDGE).toList();
    }
  }

  @Test
  void withoutLengthControlTheHighestScoreWins() {
    List<PreferencePair> pairs = run(0.0, new ScriptedJudge());
    assertEquals(1, pairs.size());
    assertEquals(List.of("long", "garbled"), pairs.get(0).getSourceSampleIds(), "unparseable is rejected");
  }

  @Test
  void lengthControlPrefersTheShortGoodResponse() {
    ScriptedJudge judge = new ScriptedJudge();
    List<PreferencePair> pairs = run(0.5, judge);
    assertEquals(List.of("short", "garbled"), pairs.get(0).getSourceSampleIds());
    assertTrue(pairs.get(0).getChosen().startsWith("secret thought B"), "the pair trains thought and response");
    assertEquals(4, judge.seen.size());
    judge.seen.forEach(r -> assertFalse(r.contains("secret thought"), "the judge saw a thought: " + r));
  }

  @Test
  void theJudgeSeesOnlyTheTextAfterTheThoughtMarker() {
    var pairs = new io.thinkstream.streams.internal.JudgePairs(0.25, "</think>");
    var g = io.thinkstream.streams.avro.GradedSample.newBuilder().setSampleId("s").setProblemId("p")
        .setPolicyVersion(1).setPrompt("Q").setSteps(List.of("<think>hmm 7?", "no, 9</think> It is 9."))
        .setAnswer("#### 9").setCorrect(true).setGold("9").setArrivedAtMs(0).build();
    assertEquals("It is 9.\n#### 9", pairs.response(g));
  }

  @Test
  void httpJudgeOutputParsing() {
    assertEquals(new Judge.Scored(7.5), HttpJudge.parse("Clear and right.\nScore: 7.5"));
    assertInstanceOf(Judge.Unparseable.class, HttpJudge.parse("I like it"));
    assertInstanceOf(Judge.Unparseable.class, HttpJudge.parse("Score: 42"));
    String body = new HttpJudge("http://x/v1", "m", java.time.Duration.ofSeconds(1)).body("Q?", "It is 9.");
    assertTrue(body.contains("\"model\":\"m\"") && body.contains("Response:\\nIt is 9."), body);
  }
}
