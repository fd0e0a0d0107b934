package io.thinkstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.djl.training.tracker.Tracker;
import io.thinkstream.model.internal.Attention;
import java.util.List;
import java.util.function.Function;

/**
 * Next-token training of a {@link Transformer}: weighted cross-entropy, backward, the flat
 * {@link AdamW} update.
 *
 * <p>Each step runs in its own sub-manager, so the model's manager holds the same arrays after
 * every step (parameters, and AdamW's moments, made with the trainer). DJL's collector does not
 * zero gradients; the AdamW update does, so every step starts from zero. A non-finite loss or
 * gradient skips the update.
 */
public final class LmTrainer {
  /**
   * One micro-batch. {@code segments} mark sequences (0 = padding; several ids per row = packed),
   * from which the causal mask and the position ids follow; {@code weights} choose the tokens whose
   * next-token loss counts, {@code targets[b][i]} being the token that should follow position i.
   */
  public record Batch(int[][] tokens, int[][] segments, int[][] targets, float[][] weights) {
    /** Non-padding positions: the tokens a forward pass really processes. */
    public long realTokens() {
      return LmTrainer.realTokens(segments);
    }

    /** Positions whose next-token loss counts. */
    public double trainedTokens() {
      return LmTrainer.trainedTokens(weights);
    }
  }

  /** Positions with a non-zero segment id (0 marks padding). */
  public static long realTokens(int[][] segments) {
    return java.util.Arrays.stream(segments).flatMapToInt(java.util.Arrays::stream).filter(s -> s != 0).count();
  }

  /** The sum of the loss weights. */
  public static double trainedTokens(float[][] weights) {
    double n = 0;
    for (float[] row : weights) {
      for (float w : row) {
        n += w;
      }
    }
    return n;
  }

  /** Learning-rate schedule: linear warm-up then cosine decay to 10%, by update count. */
  public record Schedule(float peak, int warmup, int total) implements Tracker {
    @Override
    public float getNewValue(int numUpdate) {
      if (numUpdate < warmup) {
        return peak * (numUpdate + 1) / warmup;
      }
      double progress = Math.min(1.0, (numUpdate - warmup) / (double) Math.max(1, total - warmup));
      return (float) (peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress))));
    }
  }

  private final Transformer model;
  private final AdamW optimizer;

  /** AdamW with betas (0.9, 0.95), eps 1e-8, no clipping, no decay on norms and embeddings. */
  public LmTrainer(Transformer model, Schedule schedule, float weightDecay) {
    this(model, new AdamW.Settings(schedule, 0.9, 0.95, 1e-8, weightDecay, 0, false));
  }

  public LmTrainer(Transformer model, AdamW.Settings settings) {
    this.model = model;
    this.optimizer = new AdamW(model, settings);
  }

  /**
   * One part of a step's loss: {@code sum} builds the part's summed weighted NLL (a scalar in the
   * step manager it is given) over {@code tokens} trained tokens.
   */
  public record Part(Function<NDManager, NDArray> sum, double tokens) {}

  /** One optimizer step on {@code batch}; returns the mean loss per weighted token. */
  public float step(Batch batch) {
    return step(List.of(new Part(step -> sum(model, step, batch), batch.trainedTokens())));
  }

  /**
   * One optimizer step on the mean loss over every trained token of all {@code parts}, each built in
   * its own step manager and run forward and backward on its own (gradient accumulation: only one
   * part's activations are alive at a time). Every part's sum is divided by the tokens of all parts,
   * so the step is the same however the tokens are split into parts. Returns that mean loss.
   */
  public float step(List<Part> parts) {
    float loss = 0;
    for (Function<NDManager, NDArray> part : normalised(parts)) {
      try (NDManager step = model.newStepManager();
          GradientCollector collector = step.getEngine().newGradientCollector()) {
        NDArray l = part.apply(step); // ()
        collector.backward(l);
        loss += l.toType(DataType.FLOAT32, false).getFloat();
      }
    }
    optimizer.step(Float.isFinite(loss));
    return loss;
  }

  /** Each part's sum divided by the trained tokens of all parts: together, the mean over every token. */
  public static List<Function<NDManager, NDArray>> normalised(List<Part> parts) {
    double total = parts.stream().mapToDouble(Part::tokens).sum();
    return parts.stream().<Function<NDManager, NDArray>>map(p -> step -> perToken(p.sum().apply(step), total)).toList();
  }

  /** Summed weighted next-token negative log-likelihood of {@code batch}, a scalar in {@code step}. */
  public static NDArray sum(Transformer model, NDManager step, Batch batch) {
    NDArray positions = step.create(Masks.positions(batch.segments())); // (B, T)
    NDArray mask = Masks.causal(step, batch.segments()); // (B, 1, T, T)
    return nll(model, step, batch.tokens(), positions, mask, batch.targets(), batch.weights()); // ()
  }

  /** Mean weighted next-token negative log-likelihood, a scalar in {@code step}. */
  public static NDArray loss(Transformer model, NDManager step, Batch batch) {
    return perToken(sum(model, step, batch), batch.trainedTokens()); // ()
  }

  /**
   * Summed weighted next-token negative log-likelihood of {@code tokens} (B, T) at {@code positions}
   * under {@code mask} (B, 1, T, T): the core every row layout shares. The mask must be causal
   * (hide every key after its query; segments, padding and turns may hide more), as every layout's
   * is: the pass skips the hidden triangle ({@link Transformer#forwardCausal}). A scalar in
   * {@code step}.
   */
  public static NDArray nll(Transformer model, NDManager step, int[][] tokens, NDArray positions, NDArray mask,
      int[][] targets, float[][] weights) {
    NDArray ids = step.create(tokens); // (B, T)
    NDArray logits = model.forwardCausal(ids, positions, mask); // (B, T, V)
    return nll(model, step, logits, targets, weights); // ()
  }

  /**
   * {@code sum} divided by a token count, the count held in the step's manager: autograd keeps the
   * divisor for the backward pass, so it must not be a temporary (see {@code Attention.scalar}).
   */
  public static NDArray perToken(NDArray sum, double tokens) {
    return sum.div(Attention.scalar(sum, Math.max(tokens, 1e-9))); // ()
  }

  /** Summed weighted negative log-likelihood of {@code targets} under {@code logits} (B, T, V). */
  public static NDArray nll(Transformer model, NDManager step, NDArray logits, int[][] targets, float[][] weights) {
    NDArray t = step.create(targets).toType(DataType.INT64, false); // (B, T)
    NDArray w = step.create(weights).toType(model.dataType(), false); // (B, T)
    NDArray logp = logits.logSoftmax(2).gather(t.expandDims(2), 2).squeeze(2); // (B, T)
    return logp.mul(w).sum().neg(); // ()
  }
}
