package io.thinkstream.evaluator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every setting of the evaluator and its dashboard, declared once with its doc, default and
 * validator. The CLI merges {@link #DEF} into its own config; {@link #settings()} and
 * {@link #dashboard()} are the typed records the service and the server are built from.
 */
public final class EvaluatorConfig extends AbstractConfig {
  public static final String SUITES = "evaluator.suites";
  public static final String SYNTHETIC_SIZE = "evaluator.synthetic.size";
  public static final String SYNTHETIC_SEED = "evaluator.synthetic.seed";
  public static final String GSM8K_FILE = "evaluator.gsm8k.file";
  public static final String GSM8K_SIZE = "evaluator.gsm8k.size";
  public static final String K = "evaluator.k";
  public static final String SAMPLES = "evaluator.samples";
  public static final String TEMPERATURE = "evaluator.temperature";
  public static final String MAX_NEW_TOKENS = "evaluator.max.new.tokens";
  public static final String BATCH_SIZE = "evaluator.batch.size";
  public static final String GROUP_ID = "evaluator.group.id";
  public static final String TRANSACTIONAL_ID = "evaluator.transactional.id";
  public static final String DASHBOARD_HOST = "dashboard.host";
  public static final String DASHBOARD_PORT = "dashboard.port";
  public static final String DASHBOARD_RUN_NAME = "dashboard.run.name";
  public static final String DASHBOARD_LAG_INTERVAL_MS = "dashboard.lag.interval.ms";
  public static final String DASHBOARD_LINEAGE_PROBLEMS = "dashboard.lineage.problems";

  public static final ConfigDef DEF = new ConfigDef()
      .define(SUITES, Type.LIST, List.of("synthetic"), ConfigDef.ValidList.in(false, "synthetic", "gsm8k"), Importance.HIGH,
          "Held-out suites every checkpoint is evaluated on: synthetic (fixed seed) and/or gsm8k (" + GSM8K_FILE + ").")
      .define(SYNTHETIC_SIZE, Type.INT, 200, Range.between(1, 1_000_000), Importance.MEDIUM,
          "Problems of the synthetic held-out suite.")
      .define(SYNTHETIC_SEED, Type.LONG, 1_000_004L, Importance.LOW,
          "Seed of the synthetic held-out suite (the sft command holds out the same seed); keep it away from training seeds.")
      .define(GSM8K_FILE, Type.STRING, "../shared/data/gsm8k/test.jsonl", Importance.MEDIUM,
          "GSM8K-format JSONL file of the gsm8k suite.")
      .define(GSM8K_SIZE, Type.INT, 200, Range.between(1, 1_000_000), Importance.MEDIUM,
          "Problems of the gsm8k suite: the first N good lines of " + GSM8K_FILE + ".")
      .define(K, Type.INT, 4, Range.between(1, 1024), Importance.HIGH,
          "k of maj@k and pass@k.")
      .define(SAMPLES, Type.INT, 8, Range.between(1, 4096), Importance.HIGH,
          "Samples drawn per problem (n of the unbiased pass@k estimator; must be >= " + K + "); "
              + "maj@k votes over the first k of them.")
      .define(TEMPERATURE, Type.DOUBLE, 0.7, Range.between(0.0, 10.0), Importance.MEDIUM,
          "Sampling temperature of the maj@k and pass@k samples.")
      .define(MAX_NEW_TOKENS, Type.INT, 192, Range.between(1, 1 << 16), Importance.MEDIUM,
          "Longest completion in tokens (also capped by the model's max positions).")
      .define(BATCH_SIZE, Type.INT, 32, Range.between(1, 4096), Importance.LOW,
          "Sequences generated together.")
      .define(GROUP_ID, Type.STRING, "thinkstream-evaluator", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Consumer group of the evaluator on the checkpoints topic; its offsets commit in the evaluations' transaction.")
      .define(TRANSACTIONAL_ID, Type.STRING, "thinkstream-evaluator", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "transactional.id of the evaluator's producer; a restarted evaluator fences the old one.")
      .define(DASHBOARD_HOST, Type.STRING, "127.0.0.1", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Address the dashboard binds (0.0.0.0 for all interfaces).")
      .define(DASHBOARD_PORT, Type.INT, 8090, Range.between(-1, 65535), Importance.MEDIUM,
          "Port of the dashboard; 0 picks a free one, -1 turns it off.")
      .define(DASHBOARD_RUN_NAME, Type.STRING, "", Importance.LOW,
          "Name of the run shown in the dashboard's title; empty = the topic prefix.")
      .define(DASHBOARD_LAG_INTERVAL_MS, Type.LONG, 5_000L, Range.atLeast(100), Importance.LOW,
          "How often the dashboard asks the broker for every consumer group's lag.")
      .define(DASHBOARD_LINEAGE_PROBLEMS, Type.INT, 100_000, Range.between(1, 10_000_000), Importance.LOW,
          "Problems whose samples, rewards and pairs the dashboard keeps for the lineage view (the newest stay).");

  /** What the evaluator does for each checkpoint. */
  public record Settings(List<String> suites, int syntheticSize, long syntheticSeed, Path gsm8kFile, int gsm8kSize,
      int k, int samples, double temperature, int maxNewTokens, int batchSize, String groupId, String transactionalId) {
    public Settings {
      suites = List.copyOf(suites);
      if (samples < k) {
        throw new ConfigException(SAMPLES, samples, "pass@k needs at least k samples per problem: "
            + SAMPLES + "=" + samples + " < " + K + "=" + k);
      }
    }

    public static Settings defaults() {
      return new EvaluatorConfig(Map.of()).settings();
    }

    public Settings withSizes(int synthetic, int k, int samples, int maxNewTokens) {
      return new Settings(suites, synthetic, syntheticSeed, gsm8kFile, gsm8kSize, k, samples, temperature, maxNewTokens,
          batchSize, groupId, transactionalId);
    }

    public Settings withIds(String group, String transactional) {
      return new Settings(suites, syntheticSize, syntheticSeed, gsm8kFile, gsm8kSize, k, samples, temperature,
          maxNewTokens, batchSize, group, transactional);
    }
  }

  /** Where the dashboard listens and what it shows. */
  public record Dashboard(String host, int port, String runName, Duration lagInterval, int lineageProblems) {}

  public EvaluatorConfig(Map<?, ?> props) {
    super(DEF, props, false);
  }

  public Settings settings() {
    return new Settings(getList(SUITES), getInt(SYNTHETIC_SIZE), getLong(SYNTHETIC_SEED), Path.of(getString(GSM8K_FILE)),
        getInt(GSM8K_SIZE), getInt(K), getInt(SAMPLES), getDouble(TEMPERATURE), getInt(MAX_NEW_TOKENS),
        getInt(BATCH_SIZE), getString(GROUP_ID), getString(TRANSACTIONAL_ID));
  }

  public Dashboard dashboard() {
    return new Dashboard(getString(DASHBOARD_HOST), getInt(DASHBOARD_PORT), getString(DASHBOARD_RUN_NAME),
        Duration.ofMillis(getLong(DASHBOARD_LAG_INTERVAL_MS)), getInt(DASHBOARD_LINEAGE_PROBLEMS));
  }
}
