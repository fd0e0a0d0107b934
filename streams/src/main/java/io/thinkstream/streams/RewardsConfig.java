package io.thinkstream.streams;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;

/**
 * Every setting of the rewards application, declared once with its doc, default and validator.
 * The CLI merges {@link #DEF} into its own config; {@link #settings()} is the typed record the
 * topology is built from.
 */
public final class RewardsConfig extends AbstractConfig {
  public static final String APPLICATION_ID = "rewards.application.id";
  public static final String STATE_DIR = "rewards.state.dir";
  public static final String COMMIT_INTERVAL_MS = "rewards.commit.interval.ms";
  public static final String EXPECTED_K = "expected.k";
  public static final String GROUP_TIMEOUT_MS = "group.timeout.ms";
  public static final String DEDUP_WINDOW_MS = "dedup.window.ms";
  public static final String SFT_MAX_PER_PROBLEM = "sft.max.per.problem";
  public static final String MAX_POLICY_LAG = "max.policy.lag";
  public static final String EXPLORE_K = "explore.k";
  public static final String EXPLORE_MAX_STEPS = "explore.max.steps";
  public static final String EXPLORE_MODE = "explore.mode";
  public static final String JUDGE = "judge";
  public static final String JUDGE_RHO = "judge.rho";
  public static final String JUDGE_URL = "judge.url";
  public static final String JUDGE_MODEL = "judge.model";
  public static final String JUDGE_TIMEOUT_MS = "judge.timeout.ms";
  public static final String JUDGE_THOUGHT_MARKER = "judge.thought.marker";

  public static final ConfigDef DEF = new ConfigDef()
      .define(APPLICATION_ID, Type.STRING, "thinkstream-rewards", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Kafka Streams application.id of the rewards application (consumer group and internal topic prefix).")
      .define(STATE_DIR, Type.STRING, "data/streams", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Directory of the rewards application's local state stores.")
      .define(COMMIT_INTERVAL_MS, Type.LONG, 100L, Range.atLeast(10), Importance.LOW,
          "How often transactions commit (exactly_once_v2): the floor of sample-to-pair latency.")
      .define(EXPECTED_K, Type.INT, 8, Range.between(1, 1024), Importance.HIGH,
          "Samples expected per problem and policy version; a group is paired as soon as K arrived.")
      .define(GROUP_TIMEOUT_MS, Type.LONG, 30_000L, Range.atLeast(1), Importance.MEDIUM,
          "A group with fewer than K samples is paired this long after its first sample (stragglers).")
      .define(DEDUP_WINDOW_MS, Type.LONG, 3_600_000L, Range.atLeast(1), Importance.MEDIUM,
          "A sampleId seen again within this window (record time) is a sampler retry and is ignored.")
      .define(SFT_MAX_PER_PROBLEM, Type.INT, 8, Range.between(1, 1024), Importance.MEDIUM,
          "Most distinct correct completions kept as SFT examples per problem.")
      .define(MAX_POLICY_LAG, Type.LONG, 2L, Range.atLeast(0), Importance.HIGH,
          "Samples whose policy version is older than the newest checkpoint minus this are dropped as stale.")
      .define(EXPLORE_K, Type.INT, 4, Range.between(1, 64), Importance.MEDIUM,
          "Completions drawn per step prefix in the first-pit search.")
      .define(EXPLORE_MAX_STEPS, Type.INT, 20, Range.between(1, 200), Importance.MEDIUM,
          "Most step prefixes explored per incorrect sample.")
      .define(EXPLORE_MODE, Type.STRING, "sequential", ValidString.in("sequential", "parallel"), Importance.MEDIUM,
          "sequential: request the next prefix only while the previous one still reaches the answer; "
              + "parallel: request every prefix at once (faster, more sampling).")
      .define(JUDGE, Type.STRING, "verifier", ValidString.in("none", "verifier", "http"), Importance.HIGH,
          "Judge of JUDGE rewards and pairs: none, verifier (rule-based, needs gold answers) or http "
              + "(an OpenAI-compatible chat endpoint, judge.url).")
      .define(JUDGE_URL, Type.STRING, "http://localhost:8000/v1", Importance.MEDIUM,
          "Base URL of the OpenAI-compatible endpoint of the http judge (POST <url>/chat/completions).")
      .define(JUDGE_MODEL, Type.STRING, "judge", Importance.MEDIUM, "Model name sent to the http judge.")
      .define(JUDGE_TIMEOUT_MS, Type.LONG, 30_000L, Range.atLeast(1), Importance.LOW,
          "Timeout of one http judge call; a timeout counts as an unparseable (rejected) output.")
      .define(JUDGE_THOUGHT_MARKER, Type.STRING, "</think>", Importance.MEDIUM,
          "The judge sees only the text after the last occurrence of this marker (the response); without "
              + "the marker, only the sample's answer part, never its reasoning steps.")
      .define(JUDGE_RHO, Type.DOUBLE, 0.25, Range.between(0.0, 0.5), Importance.MEDIUM,
          "Length penalty of the judge score: s = z(score) - rho * z(length).");

  /** The typed settings the topology is built from. */
  public record Settings(int expectedK, Duration groupTimeout, Duration dedupWindow, int sftMaxPerProblem,
      long maxPolicyLag, int exploreK, int exploreMaxSteps, boolean exploreParallel, double judgeRho,
      String thoughtMarker) {
    public static Settings defaults() {
      return of(Map.of());
    }
  }

  public RewardsConfig(Map<String, ?> props) {
    super(DEF, props, false);
  }

  /** Settings from {@code props} over the defaults; unknown keys are ignored (the caller owns them). */
  public static Settings of(Map<String, ?> props) {
    return new RewardsConfig(props).settings();
  }

  public Settings settings() {
    return new Settings(getInt(EXPECTED_K), Duration.ofMillis(getLong(GROUP_TIMEOUT_MS)),
        Duration.ofMillis(getLong(DEDUP_WINDOW_MS)), getInt(SFT_MAX_PER_PROBLEM), getLong(MAX_POLICY_LAG),
        getInt(EXPLORE_K), getInt(EXPLORE_MAX_STEPS), getString(EXPLORE_MODE).equals("parallel"),
        getDouble(JUDGE_RHO), getString(JUDGE_THOUGHT_MARKER));
  }

  /** The configured judge; empty for {@code judge=none}. */
  public Optional<Judge> judge() {
    return switch (getString(JUDGE)) {
      case "verifier" -> Optional.of(new VerifierJudge());
      case "http" -> Optional.of(new HttpJudge(getString(JUDGE_URL), getString(JUDGE_MODEL),
          Duration.ofMillis(getLong(JUDGE_TIMEOUT_MS))));
      default -> Optional.empty();
    };
  }
}
