package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.thinkstream.model.AdamW;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.Scorer;
import io.thinkstream.model.Transformer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AdamWTest {
  static final ModelConfig CONFIG = new ModelConfig(19, 16, 2, 4, 2, 24, 10_000, 64, 1e-5, false);
  static final List<Scorer.Pair> EXAMPLES;

  static {
    SplittableRandom rnd = new SplittableRandom(1);
    EXAMPLES = List.of(new Scorer.Pair(rnd.ints(4, 1, 19).toArray(), rnd.ints(6, 1, 19).toArray()),
        new Scorer.Pair(rnd.ints(3, 1, 19).toArray(), rnd.ints(8, 1, 19).toArray()));
  }

  static void backward(Transformer m) {
    try (NDManager step = m.newStepManager(); GradientCollector gc = step.getEngine().newGradientCollector()) {
      gc.backward(Losses.sft(m, step, EXAMPLES, 0));
    }
  }

  /**
   * The flat update against PyTorch's AdamW written out per parameter in doubles (decoupled decay
   * off for norms and the embedding, global-norm clipping), over steps of the warm-up and after.
   */
  @Test
  void theFlatUpdateEqualsThePerParameterUpdate() {
    AdamW.Settings s = new AdamW.Settings(new LmTrainer.Schedule(3e-2f, 2, 10), 0.9, 0.95, 1e-8, 0.1, 0.5, false);
    try (Transformer m = Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT64, 3); AdamW adam = new AdamW(m, s)) {
      Map<String, double[]> p = new LinkedHashMap<>();
      Map<String, double[]> m1 = new LinkedHashMap<>();
      Map<String, double[]> m2 = new LinkedHashMap<>();
      m.parameters().forEach((k, v) -> {
        p.put(k, v.toDoubleArray());
        m1.put(k, new double[(int) v.size()]);
        m2.put(k, new double[(int) v.size()]);
      });
      for (int t = 1; t <= 4; t++) {
        backward(m);
        Map<String, double[]> g = new LinkedHashMap<>();
        double sq = 0;
        for (Map.Entry<String, NDArray> e : m.parameters().entrySet()) {
          try (NDArray grad = e.getValue().getGradient()) {
            double[] d = grad.toDoubleArray();
            g.put(e.getKey(), d);
            for (double x : d) {
              sq += x * x;
            }
          }
        }
        double norm = Math.sqrt(sq);
        double clip = Math.min(1, 0.5 / (norm + 1e-6));
        double lr = s.schedule().getNewValue(t - 1);
        for (String name : p.keySet()) {
          double wd = AdamW.exempt(name) ? 0 : 0.1;
          double[] w = p.get(name);
          for (int i = 0; i < w.length; i++) {
            double gi = g.get(name)[i] * clip;
            m1.get(name)[i] = 0.9 * m1.get(name)[i] + 0.1 * gi;
            m2.get(name)[i] = 0.95 * m2.get(name)[i] + 0.05 * gi * gi;
            double mhat = m1.get(name)[i] / (1 - Math.pow(0.9, t));
            double vhat = m2.get(name)[i] / (1 - Math.pow(0.95, t));
            w[i] = w[i] * (1 - lr * wd) - lr * mhat / (Math.sqrt(vhat) + 1e-8);
          }
        }
        AdamW.Update u = adam.step(true);
        assertTrue(u.applied());
        assertEquals(norm, u.gradNorm(), 1e-12 * norm);
        for (Map.Entry<String, NDArray> e : m.parameters().entrySet()) {
          double[] have = e.getValue().toDoubleArray();
          double[] want = p.get(e.getKey());
          for (int i = 0; i < have.length; i++) {
            assertEquals(want[i], have[i], 1e-12 + 1e-10 * Math.abs(want[i]), e.getKey() + "[" + i + "] step " + t);
          }
        }
      }
      assertEquals(4, adam.steps());
    }
  }

  @Test
  void aNonFiniteGradientSkipsTheStepAndIsCounted() {
    AdamW.Settings s = new AdamW.Settings(new LmTrainer.Schedule(1e-2f, 1, 10), 0.9, 0.95, 1e-8, 0.0, 1.0, false);
    try (Transformer m = Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT64, 3); AdamW adam = new AdamW(m, s)) {
      backward(m);
      NDArray w = m.parameters().get("model.norm.weight");
      try (NDArray g = w.getGradient()) {
        g.set(new ai.djl.ndarray.index.NDIndex("0"), Double.NaN);
      }
      double[] before = w.toDoubleArray();
      AdamW.Update u = adam.step(true);
      assertFalse(u.applied());
      assertEquals(1, adam.skipped());
      assertEquals(0, adam.steps());
      assertEquals(before[0], w.toDoubleArray()[0]);
      try (NDArray g = w.getGradient()) {
        for (double x : g.toDoubleArray()) {
          assertEquals(0.0, x, "gradients are zeroed after a skipped step");
        }
      }
      backward(m);
      assertTrue(adam.step(true).applied(), "the next finite batch trains");
      assertFalse(adam.step(false).applied(), "a non-finite loss skips too");
      assertEquals(2, adam.skipped());
    }
  }
}
