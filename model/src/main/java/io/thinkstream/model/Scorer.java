package io.thinkstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;

/**
 * log p(continuation | prompt) under the policy, summed and per token, for a batch of pairs in
 * one forward pass: what DPO's reference log-probs, LaTRO's self-reward and likelihood judges read.
 */
public final class Scorer {
  public record Pair(int[] prompt, int[] continuation) {}

  /** Summed and per-token log-probabilities of one continuation. */
  public record Score(double sum, float[] perToken) {}

  private final Transformer model;
  private final int pad;

  public Scorer(Transformer model, Tokenizer tokenizer) {
    this.model = model;
    this.pad = tokenizer.padId();
  }

  /**
   * The rows every scorer of pairs uses, the policy's and the frozen reference's alike: row r is
   * prompt then continuation, padded; {@code targets[r][i]} is the token after position i and
   * {@code weights[r][i]} is 1 exactly where that token belongs to the continuation.
   */
  public record Layout(int[][] tokens, int[][] segments, int[][] targets, float[][] weights) {}

  /** The {@link Layout} of {@code pairs}, one pair per row, padded with {@code pad}. */
  public static Layout layout(List<Pair> pairs, int pad) {
    int b = pairs.size();
    int t = pairs.stream().mapToInt(p -> p.prompt().length + p.continuation().length).max().orElseThrow();
    int[][] tokens = new int[b][t];
    int[][] segments = new int[b][t];
    int[][] targets = new int[b][t];
    float[][] weights = new float[b][t];
    for (int r = 0; r < b; r++) {
      Pair p = pairs.get(r);
      if (p.prompt().length == 0) {
        throw new IllegalArgumentException("pair " + r + " has an empty prompt: the first token has no prediction");
      }
      int n = p.prompt().length + p.continuation().length;
      for (int i = 0; i < t; i++) {
        tokens[r][i] = i < p.prompt().length ? p.prompt()[i] : i < n ? p.continuation()[i - p.prompt().length] : pad;
        segments[r][i] = i < n ? 1 : 0;
      }
      for (int i = 0; i + 1 < n; i++) {
        targets[r][i] = tokens[r][i + 1];
        weights[r][i] = i + 1 >= p.prompt().length ? 1f : 0f; // token prompt+j is predicted at column prompt+j-1
      }
    }
    return new Layout(tokens, segments, targets, weights);
  }

  /** Next-token log-probabilities (B, T) of {@code layout}'s targets, differentiable, in {@code step}. */
  public static NDArray tokenLogProbs(Transformer model, NDManager step, Layout layout) {
    NDArray x = step.create(layout.tokens()); // (B, T)
    NDArray positions = step.create(Masks.positions(layout.segments())); // (B, T)
    NDArray logits = model.forwardCausal(x, positions, Masks.causal(step, layout.segments())); // (B, T, V)
    NDArray index = step.create(layout.targets()).toType(DataType.INT64, false).expandDims(2); // (B, T, 1)
    return logits.logSoftmax(2).gather(index, 2).squeeze(2); // (B, T)
  }

  /**
   * log p(continuation | prompt) of every row (B), differentiable: what DPO's policy side and
   * every trained objective over pairs read, on exactly the tokens {@link #score} reads.
   */
  public static NDArray sumLogProbs(Transformer model, NDManager step, Layout layout) {
    NDArray w = step.create(layout.weights()).toType(model.dataType(), false); // (B, T)
    return tokenLogProbs(model, step, layout).mul(w).sum(new int[] {1}); // (B)
  }

  public List<Score> score(List<Pair> pairs) {
    int b = pairs.size();
    if (b == 0) {
      return List.of();
    }
    Layout layout = layout(pairs, pad);
    int t = layout.tokens()[0].length;
    float[] logp;
    try (NDManager step = model.newStepManager()) {
      logp = tokenLogProbs(model, step, layout).toType(DataType.FLOAT32, false).toFloatArray(); // (B, T)
    }
    List<Score> out = new ArrayList<>();
    for (int r = 0; r < b; r++) {
      Pair p = pairs.get(r);
      float[] per = new float[p.continuation().length];
      double sum = 0;
      for (int i = 0; i < per.length; i++) {
        per[i] = logp[r * t + p.prompt().length - 1 + i]; // token prompt+i is predicted at column prompt+i-1
        sum += per[i];
      }
      out.add(new Score(sum, per));
    }
    return out;
  }
}
