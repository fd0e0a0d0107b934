package io.thinkstream.schemas;

import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.Evaluation;
import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.ExploreResult;
import io.thinkstream.avro.Feedback;
import io.thinkstream.avro.JudgeRequest;
import io.thinkstream.avro.JudgeResult;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SftExample;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The immutable registry of every topic of the loop (ARCHITECTURE.md, "Topics"). All keys are
 * strings and all values Avro. A prefix namespaces the whole set, so experiments and tests can
 * share one broker without seeing each other's records.
 */
public record Topics(
    Topic<String, Problem> problems,
    Topic<String, Sample> samples,
    Topic<String, ExploreRequest> exploreRequests,
    Topic<String, ExploreResult> exploreResults,
    Topic<String, Reward> rewards,
    Topic<String, PreferencePair> preferences,
    Topic<String, SftExample> sftExamples,
    Topic<String, Checkpoint> checkpoints,
    Topic<String, Evaluation> evaluations,
    Topic<String, Feedback> feedback,
    Topic<String, DeadLetter> deadLetters,
    Topic<String, JudgeRequest> judgeRequests,
    Topic<String, JudgeResult> judgeResults) {

  /** Experiment topics keep every record: the log is the experiment and must replay exactly. */
  private static final Map<String, String> RETAINED =
      Map.of("cleanup.policy", "delete", "retention.ms", "-1", "retention.bytes", "-1");
  /**
   * Judge traffic is a work queue between the rewards topology and the judge worker, not part of
   * the experiment: a week covers any outage the rewards application's judge timeout waits for.
   */
  private static final Map<String, String> SEVEN_DAYS =
      Map.of("cleanup.policy", "delete", "retention.ms", String.valueOf(7L * 24 * 3600 * 1000));
  /** Poison records are kept a month for inspection. */
  private static final Map<String, String> THIRTY_DAYS =
      Map.of("cleanup.policy", "delete", "retention.ms", String.valueOf(30L * 24 * 3600 * 1000));

  /** Kafka refuses longer topic names; the longest of ours is {@code <prefix>explore-requests}. */
  private static final int MAX_PREFIX_LENGTH = 249 - "explore-requests".length();

  public static final Topics DEFAULT = withPrefix("");

  /** The registry with every topic name prefixed, e.g. {@code exp1.problems} for prefix {@code exp1.}. */
  public static Topics withPrefix(String prefix) {
    if (prefix == null || !prefix.matches("[a-zA-Z0-9._-]*")) {
      throw new IllegalArgumentException("topic prefix must match [a-zA-Z0-9._-]*, got '" + prefix + "'");
    }
    if (prefix.length() > MAX_PREFIX_LENGTH) {
      throw new IllegalArgumentException("topic prefix must be at most " + MAX_PREFIX_LENGTH
          + " characters (Kafka topic names end at 249), got " + prefix.length() + ": '" + prefix + "'");
    }
    return new Topics(
        topic(prefix + "problems", Problem.class, RETAINED),
        topic(prefix + "samples", Sample.class, RETAINED),
        topic(prefix + "explore-requests", ExploreRequest.class, RETAINED),
        topic(prefix + "explore-results", ExploreResult.class, RETAINED),
        topic(prefix + "rewards", Reward.class, RETAINED),
        topic(prefix + "preferences", PreferencePair.class, RETAINED),
        topic(prefix + "sft-examples", SftExample.class, RETAINED),
        // Every version stays readable (key = version, never compacted): a lagging evaluator must
        // see each one, and lineage needs each checkpoint's consumed offsets.
        topic(prefix + "checkpoints", Checkpoint.class, RETAINED),
        topic(prefix + "evaluations", Evaluation.class, RETAINED),
        topic(prefix + "feedback", Feedback.class, RETAINED),
        topic(prefix + "dead-letters", DeadLetter.class, THIRTY_DAYS),
        topic(prefix + "judge-requests", JudgeRequest.class, SEVEN_DAYS),
        topic(prefix + "judge-results", JudgeResult.class, SEVEN_DAYS));
  }

  /**
   * The key of a {@code checkpoints} record: its version. Each version is its own key on a retained
   * topic, so none is compacted away; a sampler finds the newest by reading the topic from the
   * beginning and keeping the highest version.
   */
  public static String checkpointKey(long version) {
    return String.valueOf(version);
  }

  public List<Topic<String, ?>> all() {
    return List.of(problems, samples, exploreRequests, exploreResults, rewards, preferences,
        sftExamples, checkpoints, evaluations, feedback, deadLetters, judgeRequests, judgeResults);
  }

  public Optional<Topic<String, ?>> byName(String name) {
    return all().stream().filter(t -> t.name().equals(name)).findFirst();
  }

  private static <V extends SpecificRecord> Topic<String, V> topic(
      String name, Class<V> type, Map<String, String> config) {
    Serde<String> key = Serdes.String();
    // A null value is a tombstone only where compaction gives it a meaning; elsewhere it is a
    // poison record, refused by the deserializer so that it reaches the dead letters with that reason.
    boolean tombstones = config.getOrDefault("cleanup.policy", "").contains("compact");
    return new Topic<>(name, key, AvroSerde.of(type).withTombstones(tombstones), config);
  }
}
