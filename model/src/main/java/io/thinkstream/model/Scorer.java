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

  public List<Score> score(List<Pair> pairs) {
    int b = pairs.size();
    if (b == 0) {
      return List.of();
    }
    int t = pairs.stream().mapToInt(p -> p.prompt().length + p.continuation().length).max().orElseThrow();
    int[][] tokens = new int[b][t];
    int[][] segments = new int[b][t];
    int[][] targets = new int[b][t];
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
      }
    }
    float[] logp;
    try (NDManager step = model.newStepManager()) {
      NDArray x = step.create(tokens); // (B, T)
      NDArray positions = step.create(Masks.positions(segments)); // (B, T)
      NDArray logits = model.forward(x, positions, Masks.causal(step, segments), null); // (B, T, V)
      NDArray index = step.create(targets).toType(DataType.INT64, false).expandDims(2); // (B, T, 1)
      logp = logits.logSoftmax(2).gather(index, 2).squeeze(2).toType(DataType.FLOAT32, false).toFloatArray(); // (B, T)
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
