package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.thinkstream.model.AdamW;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.Masks;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.Scorer;
import io.thinkstream.model.Transformer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every loss against the same number computed by hand: each sequence scored alone (one unpadded
 * row, log-softmax in Java doubles), then the paper's formula in plain arithmetic. Float64 models.
 */
class LossesTest {
  static final int VOCAB = 23;
  static final int PAD = 0;
  static final ModelConfig CONFIG = new ModelConfig(VOCAB, 16, 2, 4, 2, 24, 10_000, 64, 1e-5, false);
  static Transformer policy;
  static Transformer reference;

  @BeforeAll
  static void models() {
    policy = sharp(Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT64, 1));
    reference = sharp(Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT64, 2));
    policy.requireGradients();
  }

  static Transformer sharp(Transformer m) {
    m.parameters().values().forEach(p -> p.muli(5)); // far from uniform: the losses differ clearly
    return m;
  }

  @AfterAll
  static void close() {
    policy.close();
    reference.close();
  }

  /** log p(continuation | prompt) by hand: one row, no padding, log-softmax in doubles. */
  static double logp(Transformer model, int[] prompt, int[] continuation) {
    int[] seq = Losses.concat(prompt, continuation);
    double[] logits;
    try (NDManager step = model.newStepManager()) {
      int[][] segments = {new int[seq.length]};
      java.util.Arrays.fill(segments[0], 1);
      NDArray out = model.forward(step.create(new int[][] {seq}), step.create(Masks.positions(segments)),
          Masks.causal(step, segments), null); // (1, T, V)
      logits = out.toDoubleArray();
    }
    double sum = 0;
    for (int i = prompt.length - 1; i + 1 < seq.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int v = 0; v < VOCAB; v++) {
        max = Math.max(max, logits[i * VOCAB + v]);
      }
      double z = 0;
      for (int v = 0; v < VOCAB; v++) {
        z += Math.exp(logits[i * VOCAB + v] - max);
      }
      sum += logits[i * VOCAB + seq[i + 1]] - max - Math.log(z);
    }
    return sum;
  }

  static int[] ids(SplittableRandom rnd, int n) {
    return rnd.ints(n, 1, VOCAB).toArray();
  }

  static double value(java.util.function.Function<NDManager, NDArray> loss) {
    try (NDManager step = policy.newStepManager()) {
      return loss.apply(step).getDouble();
    }
  }

  static List<Losses.Preference> pairs(SplittableRandom rnd, int n) {
    List<Losses.Preference> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Losses.Preference(ids(rnd, 2 + rnd.nextInt(4)), ids(rnd, 1 + rnd.nextInt(5)), ids(rnd, 1 + rnd.nextInt(5))));
    }
    return out;
  }

  static double dpoByHand(List<Losses.Preference> pairs, double beta) {
    double total = 0;
    for (Losses.Preference p : pairs) {
      double z = beta * ((logp(policy, p.prompt(), p.chosen()) - logp(policy, p.prompt(), p.rejected()))
          - (logp(reference, p.prompt(), p.chosen()) - logp(reference, p.prompt(), p.rejected())));
      total += Math.log1p(Math.exp(-z)); // -log sigmoid(z)
    }
    return total / pairs.size();
  }

  @Test
  void sftIsTheMeanNllPerContinuationToken() {
    SplittableRandom rnd = new SplittableRandom(3);
    List<Scorer.Pair> examples = List.of(new Scorer.Pair(ids(rnd, 3), ids(rnd, 5)), new Scorer.Pair(ids(rnd, 6), ids(rnd, 2)));
    double byHand = -(logp(policy, examples.get(0).prompt(), examples.get(0).continuation())
        + logp(policy, examples.get(1).prompt(), examples.get(1).continuation())) / 7;
    assertEquals(byHand, value(step -> Losses.sft(policy, step, examples, PAD)), 1e-10 * Math.abs(byHand));
  }

  @Test
  void dpoEqualsTheSigmoidLossAgainstTheFrozenReference() {
    List<Losses.Preference> pairs = pairs(new SplittableRandom(4), 4);
    Losses.Reference ref = Losses.reference(reference, pairs, PAD);
    for (int i = 0; i < pairs.size(); i++) {
      Losses.Preference p = pairs.get(i);
      assertEquals(logp(reference, p.prompt(), p.chosen()), ref.chosen()[i], 1e-10);
      assertEquals(logp(reference, p.prompt(), p.rejected()), ref.rejected()[i], 1e-10);
    }
    double byHand = dpoByHand(pairs, 0.1);
    assertTrue(Math.abs(byHand - Math.log(2)) > 1e-3, "the policy differs from the reference: " + byHand);
    assertEquals(byHand, value(step -> Losses.dpo(policy, step, pairs, ref, 0.1, PAD)), 1e-10);
  }

  @Test
  void stepDpoIsDpoOnThePrefixBeforeThePit() {
    // prompt = question + the steps before the pit, chosen = a correct continuation, rejected = the pit step
    SplittableRandom rnd = new SplittableRandom(5);
    int[] question = ids(rnd, 4);
    int[] stepsBeforePit = ids(rnd, 3);
    List<Losses.Preference> pairs = List.of(new Losses.Preference(Losses.concat(question, stepsBeforePit), ids(rnd, 4), ids(rnd, 2)));
    Losses.Reference ref = Losses.reference(reference, pairs, PAD);
    assertEquals(dpoByHand(pairs, 0.3), value(step -> Losses.dpo(policy, step, pairs, ref, 0.3, PAD)), 1e-10);
  }

  @Test
  void latroUsesTheLeaveOneOutBaselineAndPenalisesUnfinishedRationales() {
    SplittableRandom rnd = new SplittableRandom(6);
    int[] x = ids(rnd, 4);
    int[] y = ids(rnd, 3);
    List<int[]> z = List.of(ids(rnd, 3), ids(rnd, 5), ids(rnd, 2), ids(rnd, 4));
    boolean[] finished = {true, true, false, true};
    double beta = 0.05;
    double unfinished = -30;
    double[] refZ = new double[z.size()];
    double[] lz = new double[z.size()];
    double[] ly = new double[z.size()];
    double[] r = new double[z.size()];
    for (int k = 0; k < z.size(); k++) {
      refZ[k] = logp(reference, x, z.get(k));
      lz[k] = logp(policy, x, z.get(k));
      ly[k] = logp(policy, Losses.concat(x, z.get(k)), y);
      r[k] = finished[k] ? ly[k] - beta * (lz[k] - refZ[k]) : unfinished;
    }
    double byHand = 0;
    for (int k = 0; k < z.size(); k++) {
      double others = 0;
      for (int j = 0; j < z.size(); j++) {
        others += j == k ? 0 : r[j];
      }
      double advantage = r[k] - others / (z.size() - 1);
      byHand -= (advantage * lz[k] + ly[k]) / z.size();
    }
    assertTrue(Losses.leaveOneOut(r)[2] < 0, "the unfinished rationale is pushed down");
    Losses.Rationales group = new Losses.Rationales(List.of(x, x, x, x), z, finished, y);
    double got = value(step -> Losses.latro(policy, step, group, refZ, beta, unfinished, PAD));
    assertEquals(byHand, got, 1e-9 * Math.abs(byHand));
  }

  @Test
  void ssftTrainsTheHungarianMatchOfTheMeanNllCost() {
    SplittableRandom rnd = new SplittableRandom(7);
    int[] question = ids(rnd, 4);
    List<int[]> prompts = new ArrayList<>();
    for (int tag = 0; tag < 3; tag++) {
      prompts.add(Losses.concat(question, new int[] {VOCAB - 1 - tag})); // question + <think_i>
    }
    List<int[]> traces = List.of(ids(rnd, 5), ids(rnd, 3));
    double[][] byHand = new double[3][2];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 2; j++) {
        byHand[i][j] = -logp(policy, prompts.get(i), traces.get(j)) / traces.get(j).length;
      }
    }
    double[][] costs = Losses.costs(policy, prompts, traces, PAD);
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 2; j++) {
        assertEquals(byHand[i][j], costs[i][j], 1e-10);
      }
    }
    int[] match = Hungarian.solve(costs);
    assertEquals(HungarianTest.bruteForce(byHand), Hungarian.cost(byHand, match), 1e-12);
    double nll = 0;
    int tokens = 0;
    for (int i = 0; i < 3; i++) {
      if (match[i] >= 0) {
        nll -= logp(policy, prompts.get(i), traces.get(match[i]));
        tokens += traces.get(match[i]).length;
      }
    }
    double expected = nll / tokens;
    assertEquals(expected, value(step -> Losses.ssft(policy, step, prompts, traces, match, PAD)), 1e-10 * expected);
  }

  @Test
  void aDpoStepRaisesTheChosenMinusRejectedLogRatioWithoutLeakingArrays() {
    List<Losses.Preference> pairs = pairs(new SplittableRandom(8), 3);
    try (Transformer m = Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT64, 1)) {
      sharp(m);
      AdamW adam = new AdamW(m, new AdamW.Settings(new LmTrainer.Schedule(1e-2f, 1, 100), 0.9, 0.95, 1e-8, 0, 1.0, false));
      Losses.Reference ref = Losses.reference(reference, pairs, PAD);
      double before = margin(m, pairs, ref);
      int arrays = -1;
      for (int i = 0; i < 5; i++) {
        try (NDManager step = m.newStepManager(); GradientCollector gc = step.getEngine().newGradientCollector()) {
          gc.backward(Losses.dpo(m, step, pairs, ref, 0.1, PAD));
        }
        assertTrue(adam.step(true).applied());
        if (i == 0) {
          arrays = m.managedArrayCount();
        }
        assertEquals(arrays, m.managedArrayCount(), "step " + i);
        double after = margin(m, pairs, ref);
        assertTrue(after > before, "step " + i + ": chosen-minus-rejected log-ratio " + before + " -> " + after);
        before = after;
      }
      adam.close();
    }
  }

  /** Mean of (log π(c) − log π(r)) − (log π0(c) − log π0(r)). */
  static double margin(Transformer m, List<Losses.Preference> pairs, Losses.Reference ref) {
    Losses.Reference now = Losses.reference(m, pairs, PAD);
    double sum = 0;
    for (int i = 0; i < pairs.size(); i++) {
      sum += (now.chosen()[i] - now.rejected()[i]) - (ref.chosen()[i] - ref.rejected()[i]);
    }
    return sum / pairs.size();
  }
}
