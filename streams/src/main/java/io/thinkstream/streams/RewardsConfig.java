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
  public static final String MAX_OUTPUT_BYTES = "rewards.max.output.bytes";
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
  public static final String JUDGE_RESULT_TIMEOUT_MS = "judge.result.timeout.ms";
  public static final String JUDGE_WORKER = "judge.worker";
  public static final String JUDGE_WORKER_GROUP_ID = "judge.worker.group.id";
  public static final String JUDGE_CONCURRENCY = "judge.concurrency";
  public static final String JUDGE_RETRIES = "judge.retries";
  public static final String JUDGE_RETRY_BACKOFF_MS = "judge.retry.backoff.ms";
  public static final String JUDGE_BREAKER_FAILURES = "judge.breaker.failures";
  public static final String JUDGE_BREAKER_OPEN_MS = "judge.breaker.open.ms";
  public static final String EXPLORE_TIMEOUT_MS = "explore.timeout.ms";
  public static final String PROBLEM_WAIT_MS = "problem.wait.ms";
  public static final String PROBLEM_WAIT_MAX = "problem.wait.max";

  public static final ConfigDef DEF = new ConfigDef()
      .define(APPLICATION_ID, Type.STRING, "thinkstream-rewards", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Kafka Streams application.id of the rewards application (consumer group and internal topic prefix).")
      .define(STATE_DIR, Type.STRING, "data/streams", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Directory of the rewards application's local state stores.")
      // Each commit flushes the producer and waits for two coordinator round trips: at 100 ms that was
      // a fifth of the stream thread's time in 'bench rewards'; at 250 ms p99 sample-to-pair stayed ~400 ms.
      .define(COMMIT_INTERVAL_MS, Type.LONG, 250L, Range.atLeast(10), Importance.LOW,
          "How often transactions commit (exactly_once_v2): the floor of sample-to-pair latency; each commit "
              + "costs a producer flush and two round trips to the transaction and group coordinators.")
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
          "Timeout of one judge call in the judge worker; a call that times out is retried (judge.retries), then "
              + "the response has no score and is the rejected side.")
      .define(JUDGE_THOUGHT_MARKER, Type.STRING, "</think>", Importance.MEDIUM,
          "The judge sees only the text after the last occurrence of this marker (the response); without "
              + "the marker, only the sample's answer part, never its reasoning steps.")
      .define(JUDGE_RHO, Type.DOUBLE, 0.25, Range.between(0.0, 0.5), Importance.MEDIUM,
          "Length penalty of the judge score: s = z(score) - rho * z(length).")
      .define(JUDGE_RESULT_TIMEOUT_MS, Type.LONG, 600_000L, Range.atLeast(1), Importance.MEDIUM,
          "A judged group whose judge-results record has not come this long after its request closes without "
              + "JUDGE rewards and pairs (counted as judge-timed-out); a result without its group is dropped after it.")
      .define(JUDGE_WORKER, Type.STRING, "embedded", ValidString.in("embedded", "none"), Importance.MEDIUM,
          "embedded: the rewards application runs a judge worker (judge-requests -> judge-results) beside its "
              + "stream threads; none: judge workers run as processes of their own.")
      .define(JUDGE_WORKER_GROUP_ID, Type.STRING, "thinkstream-judge", new ConfigDef.NonEmptyString(),
          Importance.LOW, "Consumer group of the judge workers.")
      .define(JUDGE_CONCURRENCY, Type.INT, 8, Range.between(1, 256), Importance.MEDIUM,
          "Judge calls in flight at once per judge worker.")
      .define(JUDGE_RETRIES, Type.INT, 2, Range.between(0, 10), Importance.LOW,
          "Retries of a judge call that failed or timed out (not of one that answered unparseably).")
      .define(JUDGE_RETRY_BACKOFF_MS, Type.LONG, 500L, Range.atLeast(0), Importance.LOW,
          "Wait before the first retry of a judge call; doubled before each further one.")
      .define(JUDGE_BREAKER_FAILURES, Type.INT, 5, Range.between(1, 1000), Importance.LOW,
          "Failed judge calls in a row that open the circuit breaker (calls then fail fast).")
      .define(JUDGE_BREAKER_OPEN_MS, Type.LONG, 30_000L, Range.atLeast(1), Importance.LOW,
          "How long the judge's circuit breaker stays open before one call may try again.")
      .define(EXPLORE_TIMEOUT_MS, Type.LONG, 600_000L, Range.atLeast(1), Importance.MEDIUM,
          "A first-pit search still waiting for explore results this long after it started is evicted "
              + "(counted as pit-search-evicted); its sample gets the FIRST_PIT reward its explored prefixes support.")
      .define(PROBLEM_WAIT_MS, Type.LONG, 60_000L, Range.atLeast(1), Importance.MEDIUM,
          "A sample whose problem is not in the problems store yet waits this long for it (problems and samples "
              + "arrive on different topics), then goes to dead-letters.")
      .define(PROBLEM_WAIT_MAX, Type.LONG, 100_000L, Range.atLeast(0), Importance.LOW,
          "Most samples waiting for their problem per task; beyond it a sample of an unknown problem goes to "
              + "dead-letters at once.")
      .define(MAX_OUTPUT_BYTES, Type.INT, 1_048_576 - 16_384, Range.atLeast(1024), Importance.LOW,
          "Largest encoded output record (pair, SFT example, repartitioned sample or group) the application "
              + "produces; a larger one goes to dead-letters with the reason and its first bytes instead. Keep it "
              + "under the producer's max.request.size and the broker's message.max.bytes (1 MiB by default): a "
              + "record the producer refuses under exactly-once aborts the transaction, and the application "
              + "would stop on the same input after every restart.");

  /** The typed settings the topology is built from. */
  public record Settings(int expectedK, Duration groupTimeout, Duration dedupWindow, int sftMaxPerProblem,
      long maxPolicyLag, int exploreK, int exploreMaxSteps, boolean exploreParallel, double judgeRho,
      String thoughtMarker, boolean judging, Duration judgeResultTimeout, Duration exploreTimeout,
      Duration problemWait, long problemWaitMax, int maxOutputBytes) {
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
        getDouble(JUDGE_RHO), getString(JUDGE_THOUGHT_MARKER), !getString(JUDGE).equals("none"),
        Duration.ofMillis(getLong(JUDGE_RESULT_TIMEOUT_MS)), Duration.ofMillis(getLong(EXPLORE_TIMEOUT_MS)),
        Duration.ofMillis(getLong(PROBLEM_WAIT_MS)), getLong(PROBLEM_WAIT_MAX), getInt(MAX_OUTPUT_BYTES));
  }

  /** How the judge worker calls the judge. */
  public JudgeWorker.Settings judgeWorker() {
    return new JudgeWorker.Settings(getInt(JUDGE_CONCURRENCY), Duration.ofMillis(getLong(JUDGE_TIMEOUT_MS)),
        getInt(JUDGE_RETRIES), Duration.ofMillis(getLong(JUDGE_RETRY_BACKOFF_MS)), getInt(JUDGE_BREAKER_FAILURES),
        Duration.ofMillis(getLong(JUDGE_BREAKER_OPEN_MS)));
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
