package io.thinkstream.trainer;

import io.thinkstream.model.AdamW;
import io.thinkstream.model.LmTrainer;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * Every setting of the trainer, declared once with its doc, default and validator. The CLI merges
 * {@link #DEF} into its own config; {@link #settings()} is the typed record the trainer runs on.
 */
public final class TrainerConfig extends AbstractConfig {
  public static final String GROUP_ID = "trainer.group.id";
  public static final String BATCH_RECORDS = "trainer.batch.records";
  public static final String BATCH_TOKENS = "trainer.batch.tokens";
  public static final String BATCH_MAX_WAIT_MS = "trainer.batch.max.wait.ms";
  public static final String DEDUP_WINDOW = "trainer.dedup.window";
  public static final String CHECKPOINT_STEPS = "trainer.checkpoint.steps";
  public static final String CHECKPOINT_INTERVAL_MS = "trainer.checkpoint.interval.ms";
  public static final String LEARNING_RATE = "trainer.learning.rate";
  public static final String WARMUP_STEPS = "trainer.warmup.steps";
  public static final String TOTAL_STEPS = "trainer.total.steps";
  public static final String BETA1 = "trainer.adam.beta1";
  public static final String BETA2 = "trainer.adam.beta2";
  public static final String EPS = "trainer.adam.eps";
  public static final String WEIGHT_DECAY = "trainer.weight.decay";
  public static final String DECAY_NORMS_AND_EMBEDDINGS = "trainer.weight.decay.norms.embeddings";
  public static final String CLIP_NORM = "trainer.clip.norm";
  public static final String DPO_BETA = "trainer.dpo.beta";
  public static final String DPO_WEIGHT = "trainer.dpo.weight";
  public static final String PIT_BETA = "trainer.pit.beta";
  public static final String PIT_WEIGHT = "trainer.pit.weight";
  public static final String SFT_WEIGHT = "trainer.sft.weight";
  public static final String SFT_MODE = "trainer.sft.mode";
  public static final String LATRO_K = "trainer.latro.k";
  public static final String LATRO_BETA = "trainer.latro.beta";
  public static final String LATRO_UNFINISHED_REWARD = "trainer.latro.unfinished.reward";
  public static final String LATRO_WEIGHT = "trainer.latro.weight";
  public static final String REFERENCE_REFRESH = "trainer.reference.refresh.checkpoints";
  public static final String MAX_STEPS = "trainer.max.steps";
  public static final String PROGRESS_STEPS = "trainer.progress.steps";

  public static final ConfigDef DEF = new ConfigDef()
      .define(GROUP_ID, Type.STRING, "thinkstream-trainer", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Consumer group the trainer commits its offsets under (after each checkpoint; the manifests are the truth).")
      .define(BATCH_RECORDS, Type.INT, 16, Range.between(1, 65_536), Importance.HIGH,
          "Most records (pairs + examples) in one micro-batch.")
      .define(BATCH_TOKENS, Type.INT, 8192, Range.atLeast(16), Importance.MEDIUM,
          "Token budget of one micro-batch (every row a record lays out counts); a record alone over it is still trained.")
      .define(BATCH_MAX_WAIT_MS, Type.LONG, 2_000L, Range.atLeast(0), Importance.MEDIUM,
          "A micro-batch that is not full is trained this long after its first record arrived.")
      .define(DEDUP_WINDOW, Type.INT, 100_000, Range.atLeast(0), Importance.MEDIUM,
          "The last this many pairIds / sampleIds trained are remembered (in every checkpoint); a repeat is skipped.")
      .define(CHECKPOINT_STEPS, Type.INT, 50, Range.atLeast(1), Importance.HIGH,
          "A checkpoint is written every this many optimizer steps ...")
      .define(CHECKPOINT_INTERVAL_MS, Type.LONG, 600_000L, Range.atLeast(1), Importance.MEDIUM,
          "... or this long after the previous one, whichever comes first (and at least one step since).")
      .define(LEARNING_RATE, Type.DOUBLE, 1e-5, Range.between(0, 1), Importance.HIGH,
          "Peak learning rate (linear warm-up, cosine decay to 10%).")
      .define(WARMUP_STEPS, Type.INT, 20, Range.atLeast(1), Importance.MEDIUM, "Warm-up steps of the schedule.")
      .define(TOTAL_STEPS, Type.INT, 100_000, Range.atLeast(1), Importance.MEDIUM,
          "Steps over which the schedule decays (later steps stay at 10% of the peak).")
      .define(BETA1, Type.DOUBLE, 0.9, Range.between(0, 1), Importance.LOW, "AdamW beta1.")
      .define(BETA2, Type.DOUBLE, 0.95, Range.between(0, 1), Importance.LOW, "AdamW beta2.")
      .define(EPS, Type.DOUBLE, 1e-8, Range.between(0, 1), Importance.LOW, "AdamW epsilon.")
      .define(WEIGHT_DECAY, Type.DOUBLE, 0.01, Range.between(0, 1), Importance.MEDIUM, "Decoupled weight decay.")
      .define(DECAY_NORMS_AND_EMBEDDINGS, Type.BOOLEAN, false, Importance.LOW,
          "Whether norm weights and the token embedding decay too (by default they do not).")
      .define(CLIP_NORM, Type.DOUBLE, 1.0, Range.atLeast(0), Importance.MEDIUM,
          "Gradients are scaled to at most this global norm; 0 disables clipping.")
      .define(DPO_BETA, Type.DOUBLE, 0.1, Range.between(0, 100), Importance.HIGH,
          "beta of the sigmoid DPO loss on OUTCOME and JUDGE pairs.")
      .define(DPO_WEIGHT, Type.DOUBLE, 1.0, Range.atLeast(0), Importance.MEDIUM, "Weight of the DPO loss.")
      .define(PIT_BETA, Type.DOUBLE, 0.1, Range.between(0, 100), Importance.MEDIUM,
          "beta of step-level DPO on PIT pairs (prompt = question + steps before the pit).")
      .define(PIT_WEIGHT, Type.DOUBLE, 1.0, Range.atLeast(0), Importance.MEDIUM, "Weight of the step-DPO loss.")
      .define(SFT_WEIGHT, Type.DOUBLE, 1.0, Range.atLeast(0), Importance.MEDIUM,
          "Weight of the SFT / RFT (or SSFT) loss on sft-examples.")
      .define(SFT_MODE, Type.STRING, "plain", ConfigDef.ValidString.in("plain", "ssft"), Importance.MEDIUM,
          "plain: SFT on each example as sampled; ssft: the examples of each problem in a batch are matched to the "
              + "strategy tags by the Hungarian method on C[i][j] = mean NLL of trace j under tag i, and trained on the match.")
      .define(LATRO_K, Type.INT, 0, Range.between(0, 1024), Importance.MEDIUM,
          "LaTRO mode when >= 2: also consume samples (and problems for their gold answers) and train LaTRO on each "
              + "group of this many samples of one problem and policy version; 0 = off.")
      .define(LATRO_BETA, Type.DOUBLE, 0.05, Range.between(0, 100), Importance.LOW,
          "beta of LaTRO's KL term: r_k = log p(y | x + z_k) - beta * log(pi / pi0)(z_k | x).")
      .define(LATRO_UNFINISHED_REWARD, Type.DOUBLE, -20.0, Importance.LOW,
          "Reward of a rationale that never stopped (a sample without an answer line), in place of r_k.")
      .define(LATRO_WEIGHT, Type.DOUBLE, 1.0, Range.atLeast(0), Importance.LOW, "Weight of the LaTRO loss.")
      .define(REFERENCE_REFRESH, Type.INT, 0, Range.atLeast(0), Importance.LOW,
          "The DPO reference becomes the newest checkpoint every this many checkpoints; 0 keeps the initial model.")
      .define(MAX_STEPS, Type.LONG, 0L, Range.atLeast(0), Importance.LOW,
          "Stop after this many optimizer steps in total (resumed runs count their checkpoint's); 0 = run until stopped.")
      .define(PROGRESS_STEPS, Type.INT, 10, Range.atLeast(1), Importance.LOW,
          "A progress line on the console every this many steps.");

  /** The typed settings the trainer runs on. */
  public record Settings(String groupId, int batchRecords, int batchTokens, Duration maxWait, int dedupWindow,
      int checkpointSteps, Duration checkpointInterval, AdamW.Settings optimizer, double dpoBeta, double dpoWeight,
      double pitBeta, double pitWeight, double sftWeight, boolean ssft, int latroK, double latroBeta,
      double latroUnfinishedReward, double latroWeight, int referenceRefresh, long maxSteps, int progressSteps) {
    public static Settings defaults() {
      return of(Map.of());
    }

    public Settings withBatch(int records, Duration wait) {
      return new Settings(groupId, records, batchTokens, wait, dedupWindow, checkpointSteps, checkpointInterval,
          optimizer, dpoBeta, dpoWeight, pitBeta, pitWeight, sftWeight, ssft, latroK, latroBeta, latroUnfinishedReward,
          latroWeight, referenceRefresh, maxSteps, progressSteps);
    }
  }

  public TrainerConfig(Map<String, ?> props) {
    super(DEF, props, false);
  }

  /** Settings from {@code props} over the defaults; unknown keys are ignored (the caller owns them). */
  public static Settings of(Map<String, ?> props) {
    return new TrainerConfig(props).settings();
  }

  public Settings settings() {
    AdamW.Settings adam = new AdamW.Settings(
        new LmTrainer.Schedule((float) getDouble(LEARNING_RATE).doubleValue(), getInt(WARMUP_STEPS), getInt(TOTAL_STEPS)),
        getDouble(BETA1), getDouble(BETA2), getDouble(EPS), getDouble(WEIGHT_DECAY), getDouble(CLIP_NORM),
        getBoolean(DECAY_NORMS_AND_EMBEDDINGS));
    return new Settings(getString(GROUP_ID), getInt(BATCH_RECORDS), getInt(BATCH_TOKENS),
        Duration.ofMillis(getLong(BATCH_MAX_WAIT_MS)), getInt(DEDUP_WINDOW), getInt(CHECKPOINT_STEPS),
        Duration.ofMillis(getLong(CHECKPOINT_INTERVAL_MS)), adam, getDouble(DPO_BETA), getDouble(DPO_WEIGHT),
        getDouble(PIT_BETA), getDouble(PIT_WEIGHT), getDouble(SFT_WEIGHT), getString(SFT_MODE).equals("ssft"),
        getInt(LATRO_K), getDouble(LATRO_BETA), getDouble(LATRO_UNFINISHED_REWARD), getDouble(LATRO_WEIGHT),
        getInt(REFERENCE_REFRESH),
        getLong(MAX_STEPS), getInt(PROGRESS_STEPS));
  }
}
