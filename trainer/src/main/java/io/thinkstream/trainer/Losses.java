package io.thinkstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.thinkstream.model.Scorer;
import io.thinkstream.model.Transformer;
import java.util.ArrayList;
import java.util.List;

/**
 * The trainer's objectives, each a differentiable scalar in the step's manager, all reading
 * log p(continuation | prompt) through {@link Scorer#layout} so the policy, the frozen reference
 * and the scorers of the rest of the loop score identical tokens.
 *
 * <ul>
 *   <li>SFT / RFT: mean next-token NLL per continuation token.
 *   <li>DPO (Rafailov et al., sigmoid loss) against a frozen reference; step-DPO (Self-Explore) is
 *       the same loss on first-pit pairs, whose prompt already holds the steps before the pit.
 *   <li>LaTRO (Chen et al.): rationale z_k rewarded by r_k = log p(y | x ⊕ z_k) − β·log(π/π0)(z_k | x),
 *       leave-one-out baseline (RLOO); a rationale cut off before it ended gets a fixed low reward.
 *   <li>SSFT: the SFT loss on (tag, trace) pairs matched by {@link Hungarian} on the mean-NLL cost.
 * </ul>
 *
 * <p>No {@code Number} argument appears on a differentiated path: DJL frees those temporaries
 * before the backward pass reads them, so every constant is an array of the step's manager.
 */
public final class Losses {
  /** A prompt and two continuations, as token ids (the continuations end with {@code <eos>}). */
  public record Preference(int[] prompt, int[] chosen, int[] rejected) {}

  /**
   * K rationales of one problem, each after its own prompt x_k (the question, under the strategy tag
   * it was sampled with), whether each ended by itself, and the answer y they should lead to.
   */
  public record Rationales(List<int[]> prompts, List<int[]> rationales, boolean[] finished, int[] answer) {
    public Rationales {
      prompts = List.copyOf(prompts);
      rationales = List.copyOf(rationales);
      if (rationales.size() < 2 || finished.length != rationales.size() || prompts.size() != rationales.size()) {
        throw new IllegalArgumentException("LaTRO needs K >= 2 rationales with a prompt and a finished flag each, got "
            + rationales.size() + ", " + prompts.size() + " prompts and " + finished.length + " flags");
      }
    }

    /** The (x_k, z_k) rows. */
    public List<Scorer.Pair> rationaleRows() {
      List<Scorer.Pair> rows = new ArrayList<>();
      for (int k = 0; k < rationales.size(); k++) {
        rows.add(new Scorer.Pair(prompts.get(k), rationales.get(k)));
      }
      return rows;
    }
  }

  private Losses() {}

  /** Mean NLL per continuation token of {@code examples} (SFT / RFT), a scalar in {@code step}. */
  public static NDArray sft(Transformer policy, NDManager step, List<Scorer.Pair> examples, int pad) {
    NDArray sum = Scorer.sumLogProbs(policy, step, Scorer.layout(examples, pad)).sum().neg(); // ()
    double tokens = examples.stream().mapToInt(e -> e.continuation().length).sum();
    return sum.div(constant(step, tokens, policy.dataType())); // ()
  }

  /** Summed log p(chosen) and log p(rejected) of every pair under a model, without gradient. */
  public record Reference(double[] chosen, double[] rejected) {}

  /** The frozen reference's log-probabilities of {@code pairs}: call outside a gradient collector. */
  public static Reference reference(Transformer reference, List<Preference> pairs, int pad) {
    double[] all;
    try (NDManager step = reference.newStepManager()) {
      all = Scorer.sumLogProbs(reference, step, Scorer.layout(rows(pairs), pad))
          .toType(DataType.FLOAT64, false).toDoubleArray(); // (2P)
    }
    int n = pairs.size();
    return new Reference(java.util.Arrays.copyOfRange(all, 0, n), java.util.Arrays.copyOfRange(all, n, 2 * n));
  }

  /**
   * Sigmoid DPO, mean over pairs: −log σ(β·((log π(c) − log π(r)) − (log π0(c) − log π0(r)))).
   * Chosen and rejected rows share one forward pass.
   */
  public static NDArray dpo(Transformer policy, NDManager step, List<Preference> pairs, Reference ref, double beta,
      int pad) {
    DataType dt = policy.dataType();
    NDList halves = Scorer.sumLogProbs(policy, step, Scorer.layout(rows(pairs), pad)).split(2); // 2 x (P)
    double[] refMargin = new double[pairs.size()];
    for (int i = 0; i < refMargin.length; i++) {
      refMargin[i] = ref.chosen()[i] - ref.rejected()[i];
    }
    NDArray z = halves.get(0).sub(halves.get(1)).sub(array(step, refMargin, dt)).mul(constant(step, beta, dt)); // (P)
    return logSigmoid(z).mean().neg(); // ()
  }

  /** log p(continuation | prompt) of every pair under a model, without gradient: call outside a collector. */
  public static double[] logProbs(Transformer model, List<Scorer.Pair> pairs, int pad) {
    try (NDManager step = model.newStepManager()) {
      return Scorer.sumLogProbs(model, step, Scorer.layout(pairs, pad)).toType(DataType.FLOAT64, false).toDoubleArray(); // (B)
    }
  }

  /** Chosen rows first, then rejected rows, in pair order. */
  static List<Scorer.Pair> rows(List<Preference> pairs) {
    List<Scorer.Pair> rows = new ArrayList<>(2 * pairs.size());
    pairs.forEach(p -> rows.add(new Scorer.Pair(p.prompt(), p.chosen())));
    pairs.forEach(p -> rows.add(new Scorer.Pair(p.prompt(), p.rejected())));
    return rows;
  }

  /**
   * LaTRO with the RLOO baseline for one problem, a scalar in {@code step}:
   * −(1/K)·Σ_k (A_k·log π(z_k | x) + log π(y | x ⊕ z_k)), A_k = r_k − mean_{j≠k} r_j, the rewards
   * held constant. {@code refRationale[k]} = log π0(z_k | x) under the initial model.
   */
  public static NDArray latro(Transformer policy, NDManager step, Rationales g, double[] refRationale, double beta,
      double unfinishedReward, int pad) {
    DataType dt = policy.dataType();
    int k = g.rationales().size();
    List<Scorer.Pair> rationales = g.rationaleRows();
    List<Scorer.Pair> answers = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      answers.add(new Scorer.Pair(concat(g.prompts().get(i), g.rationales().get(i)), g.answer()));
    }
    NDArray logZ = Scorer.sumLogProbs(policy, step, Scorer.layout(rationales, pad)); // (K)
    NDArray logY = Scorer.sumLogProbs(policy, step, Scorer.layout(answers, pad)); // (K)
    double[] r = rewards(logZ.toType(DataType.FLOAT64, false).toDoubleArray(),
        logY.toType(DataType.FLOAT64, false).toDoubleArray(), refRationale, g.finished(), beta, unfinishedReward);
    NDArray advantage = array(step, leaveOneOut(r), dt); // (K)
    return advantage.mul(logZ).add(logY).mean().neg(); // ()
  }

  /** r_k = log p(y | x ⊕ z_k) − β·(log π − log π0)(z_k | x); an unfinished rationale gets {@code unfinished}. */
  public static double[] rewards(double[] logZ, double[] logY, double[] refZ, boolean[] finished, double beta,
      double unfinished) {
    double[] r = new double[logZ.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = finished[i] ? logY[i] - beta * (logZ[i] - refZ[i]) : unfinished;
    }
    return r;
  }

  /** A_k = r_k − the mean of the other K − 1 rewards (RLOO). */
  public static double[] leaveOneOut(double[] r) {
    double total = 0;
    for (double x : r) {
      total += x;
    }
    double[] a = new double[r.length];
    for (int i = 0; i < r.length; i++) {
      a[i] = r[i] - (total - r[i]) / (r.length - 1);
    }
    return a;
  }

  /**
   * SSFT's cost matrix without gradient: C[i][j] = mean next-token NLL of {@code traces[j]} after
   * {@code taggedPrompts[i]} (the question under tag i).
   */
  public static double[][] costs(Transformer policy, List<int[]> taggedPrompts, List<int[]> traces, int pad) {
    List<Scorer.Pair> all = new ArrayList<>();
    for (int[] prompt : taggedPrompts) {
      for (int[] trace : traces) {
        all.add(new Scorer.Pair(prompt, trace));
      }
    }
    double[] sums;
    try (NDManager step = policy.newStepManager()) {
      sums = Scorer.sumLogProbs(policy, step, Scorer.layout(all, pad)).toType(DataType.FLOAT64, false).toDoubleArray();
    }
    double[][] c = new double[taggedPrompts.size()][traces.size()];
    for (int i = 0; i < c.length; i++) {
      for (int j = 0; j < c[i].length; j++) {
        c[i][j] = -sums[i * traces.size() + j] / traces.get(j).length;
      }
    }
    return c;
  }

  /** The SFT loss over the (tag, trace) pairs {@code match} chose ({@code match[i]} = trace of tag i, or -1). */
  public static NDArray ssft(Transformer policy, NDManager step, List<int[]> taggedPrompts, List<int[]> traces,
      int[] match, int pad) {
    List<Scorer.Pair> matched = new ArrayList<>();
    for (int i = 0; i < match.length; i++) {
      if (match[i] >= 0) {
        matched.add(new Scorer.Pair(taggedPrompts.get(i), traces.get(match[i])));
      }
    }
    return sft(policy, step, matched, pad); // ()
  }

  /** log σ(z) (N), stable: the first column of logSoftmax([z, 0]). */
  static NDArray logSigmoid(NDArray z) {
    NDArray zeros = z.getManager().zeros(z.getShape(), z.getDataType()); // (N)
    return NDArrays.stack(new NDList(z, zeros), 1).logSoftmax(1).split(2, 1).get(0).squeeze(1); // (N)
  }

  /** A scalar constant in {@code step} that outlives the backward pass. */
  static NDArray constant(NDManager step, double value, DataType dtype) {
    return step.create(value).toType(dtype, false); // ()
  }

  static NDArray array(NDManager step, double[] values, DataType dtype) {
    return step.create(values).toType(dtype, false); // (N)
  }

  static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
