package io.thinkstream.sampler;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every setting of the sampler service, declared once with its doc, default and validator. The
 * CLI merges {@link #DEF} into its own config; {@link #settings()} is the typed record the service
 * runs with.
 */
public final class SamplerConfig extends AbstractConfig {
  public static final String K = "sampler.k";
  public static final String STRATEGIES = "sampler.strategies";
  public static final String TEMPERATURE = "sampler.temperature";
  public static final String TOP_P = "sampler.top.p";
  public static final String TOP_K = "sampler.top.k";
  public static final String MAX_NEW_TOKENS = "sampler.max.new.tokens";
  public static final String IGNORE_EOS = "sampler.ignore.eos";
  public static final String BATCH_MAX = "sampler.batch.max";
  public static final String BATCH_WAIT_MS = "sampler.batch.wait.ms";
  public static final String GROUP_ID = "sampler.group.id";
  public static final String ID = "sampler.id";
  public static final String SEED = "sampler.seed";
  public static final String EXPLORE_TEMPERATURE = "sampler.explore.temperature";
  public static final String BACKEND = "sampler.backend";
  public static final String HTTP_URL = "sampler.http.url";
  public static final String HTTP_MODEL = "sampler.http.model";
  public static final String HTTP_TIMEOUT_MS = "sampler.http.timeout.ms";
  public static final String HTTP_RETRIES = "sampler.http.retries";
  public static final String PROGRESS_INTERVAL_MS = "sampler.progress.interval.ms";

  public static final ConfigDef DEF = new ConfigDef()
      .define(K, Type.INT, 8, Range.between(1, 1024), Importance.HIGH,
          "Samples drawn per problem (the rewards service's expected.k should match).")
      .define(STRATEGIES, Type.INT, 8, Range.between(0, 64), Importance.HIGH,
          "Strategy tags <think1>..<thinkN>; sample i of a problem gets tag (i mod N) + 1. 0 = untagged.")
      .define(TEMPERATURE, Type.DOUBLE, 1.0, Range.between(0.0, 10.0), Importance.MEDIUM,
          "Sampling temperature of problem samples (0 = greedy).")
      .define(TOP_P, Type.DOUBLE, 1.0, Range.between(0.0, 1.0), Importance.LOW, "Nucleus filter (1 = off).")
      .define(TOP_K, Type.INT, 0, Range.atLeast(0), Importance.LOW, "Top-k filter (0 = off).")
      .define(MAX_NEW_TOKENS, Type.INT, 192, Range.between(1, 1 << 16), Importance.MEDIUM,
          "Most tokens generated per turn or exploration.")
      .define(IGNORE_EOS, Type.BOOLEAN, false, Importance.LOW,
          "Generate exactly max new tokens, ignoring <eos>; for benchmarks, where random weights stop at random.")
      .define(BATCH_MAX, Type.INT, 32, Range.between(1, 4096), Importance.HIGH,
          "Most sequences per generate call; sequences of several problems share a batch.")
      .define(BATCH_WAIT_MS, Type.LONG, 50L, Range.atLeast(0), Importance.MEDIUM,
          "Longest wait for more work to fill a batch once some is queued.")
      .define(GROUP_ID, Type.STRING, "thinkstream-sampler", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Consumer group of the samplers; partitions of problems and explore-requests are shared among its members.")
      .define(ID, Type.STRING, "", Importance.HIGH,
          "This sampler's id (in every sample, and in its transactional.id <group>-<id>); empty = hostname-pid. "
              + "A stable id (e.g. the pod name) lets a restarted sampler fence its predecessor at once.")
      .define(SEED, Type.LONG, 0L, Importance.MEDIUM,
          "Base seed: seeds are SampleIds.seed(base, problemId, i), so a retry draws the same tokens.")
      .define(EXPLORE_TEMPERATURE, Type.DOUBLE, 0.7, Range.between(0.0, 10.0), Importance.MEDIUM,
          "Sampling temperature of first-pit exploration completions.")
      .define(BACKEND, Type.STRING, "djl", ValidString.in("djl", "http"), Importance.HIGH,
          "djl: the policy in this process (hot-reloads checkpoints); http: an OpenAI-compatible server (sampler.http.url).")
      .define(HTTP_URL, Type.STRING, "http://localhost:8000", Importance.MEDIUM,
          "Base URL of the OpenAI-compatible server of the http backend (POST <url>/v1/completions).")
      .define(HTTP_MODEL, Type.STRING, "policy", Importance.MEDIUM, "Model name sent to the http backend.")
      .define(HTTP_TIMEOUT_MS, Type.LONG, 120_000L, Range.atLeast(1), Importance.LOW,
          "Timeout of one http completion call.")
      .define(HTTP_RETRIES, Type.INT, 3, Range.between(0, 20), Importance.LOW,
          "Retries of a failed http call, with exponential backoff from 200 ms.")
      .define(PROGRESS_INTERVAL_MS, Type.LONG, 10_000L, Range.atLeast(100), Importance.LOW,
          "How often the progress line (samples, samples/s, tokens/s, policy version, lag) is printed.");

  /** The typed settings the service runs with. */
  public record Settings(int k, int strategies, double temperature, double topP, int topK, int maxNewTokens,
      boolean ignoreEos, int batchMax, Duration batchWait, String groupId, String samplerId, long seed,
      double exploreTemperature, Duration progressInterval) {
    public Settings {
      if (groupId.isBlank() || samplerId.isBlank()) {
        throw new ConfigException("sampler group and id must not be blank, got '" + groupId + "' and '" + samplerId + "'");
      }
      if (!(topP > 0)) {
        throw new ConfigException(TOP_P, topP, "top-p must be in (0, 1]");
      }
      if (!samplerId.matches("[a-zA-Z0-9._@-]+")) {
        throw new ConfigException(ID, samplerId, "a sampler id must match [a-zA-Z0-9._@-]+ (it becomes part of a transactional.id)");
      }
    }

    public static Settings defaults() {
      return of(Map.of());
    }

    public String transactionalId() {
      return groupId + "-" + samplerId;
    }

    /** A copy with other {@code k}, tags and max new tokens (tests and benchmarks). */
    public Settings with(int k, int strategies, int maxNewTokens) {
      return new Settings(k, strategies, temperature, topP, topK, maxNewTokens, ignoreEos, batchMax, batchWait, groupId,
          samplerId, seed, exploreTemperature, progressInterval);
    }
  }

  public SamplerConfig(Map<String, ?> props) {
    super(DEF, props, false);
  }

  /** Settings from {@code props} over the defaults; unknown keys are ignored (the caller owns them). */
  public static Settings of(Map<String, ?> props) {
    return new SamplerConfig(props).settings();
  }

  public Settings settings() {
    String id = getString(ID).isBlank() ? defaultId() : getString(ID);
    return new Settings(getInt(K), getInt(STRATEGIES), getDouble(TEMPERATURE), getDouble(TOP_P), getInt(TOP_K),
        getInt(MAX_NEW_TOKENS), getBoolean(IGNORE_EOS), getInt(BATCH_MAX), Duration.ofMillis(getLong(BATCH_WAIT_MS)),
        getString(GROUP_ID), id, getLong(SEED), getDouble(EXPLORE_TEMPERATURE),
        Duration.ofMillis(getLong(PROGRESS_INTERVAL_MS)));
  }

  /** Which backend {@link #BACKEND} names: {@code djl} or {@code http}. */
  public String backend() {
    return getString(BACKEND);
  }

  /** The http backend as configured; the policy version is the one its samples carry. */
  public OpenAiHttpBackend httpBackend(long policyVersion) {
    return new OpenAiHttpBackend(getString(HTTP_URL), getString(HTTP_MODEL), policyVersion,
        Duration.ofMillis(getLong(HTTP_TIMEOUT_MS)), getInt(HTTP_RETRIES));
  }

  private static String defaultId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    return (host + "-" + ProcessHandle.current().pid()).replaceAll("[^a-zA-Z0-9._@-]", "_");
  }
}
