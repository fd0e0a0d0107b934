package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrainingTest {
  static LmTrainer.Batch batch(int b, int t, int vocab, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int[][] tokens = new int[b][t];
    int[][] segments = new int[b][t];
    int[][] targets = new int[b][t];
    float[][] weights = new float[b][t];
    for (int r = 0; r < b; r++) {
      int len = t - r; // rows of different lengths: padding is exercised too
      for (int i = 0; i < t; i++) {
        tokens[r][i] = rnd.nextInt(vocab);
        segments[r][i] = i < len ? 1 : 0;
      }
      for (int i = 0; i + 1 < len; i++) {
        targets[r][i] = tokens[r][i + 1];
        weights[r][i] = 1;
      }
    }
    return new LmTrainer.Batch(tokens, segments, targets, weights);
  }

  @Test
  void float64GradientsMatchFiniteDifferences() {
    ModelConfig config = new ModelConfig(11, 8, 2, 2, 1, 12, 10_000, 32, 1e-5, false);
    LmTrainer.Batch batch = batch(2, 6, config.vocabSize(), 3);
    try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT64, 5)) {
      // Scale weights up so the loss is not flat around uniform and gradients are sizeable.
      for (NDArray p : model.parameters().values()) {
        p.muli(10);
      }
      model.requireGradients();
      double loss;
      try (NDManager step = model.newStepManager(); GradientCollector gc = step.getEngine().newGradientCollector()) {
        NDArray l = LmTrainer.loss(model, step, batch);
        loss = l.getDouble();
        gc.backward(l);
      }
      SplittableRandom rnd = new SplittableRandom(9);
      double eps = 1e-6;
      // A central difference cannot resolve a slope smaller than the loss's rounding over the step:
      // a few dozen ulps of the loss (summed over the batch's tokens) divided by 2 eps.
      double floor = 50 * Math.ulp(loss) / (2 * eps);
      int checked = 0;
      for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
        NDArray w = e.getValue();
        double[] grad;
        try (NDArray g = w.getGradient()) {
          grad = g.toDoubleArray();
        }
        for (int n = 0; n < 3; n++) {
          int idx = rnd.nextInt(grad.length);
          double plus = lossWithDelta(model, batch, w, idx, eps);
          double minus = lossWithDelta(model, batch, w, idx, -eps);
          double numeric = (plus - minus) / (2 * eps);
          double err = Math.abs(numeric - grad[idx]) / Math.max(1e-6, Math.abs(numeric) + Math.abs(grad[idx]));
          assertTrue(err < 1e-5 || Math.abs(numeric - grad[idx]) < floor,
              e.getKey() + "[" + idx + "]: analytic " + grad[idx] + " numeric " + numeric);
          checked++;
        }
      }
      assertTrue(checked >= 3 * model.parameters().size());
    }
  }

  private static double lossWithDelta(Transformer model, LmTrainer.Batch batch, NDArray w, int idx, double delta) {
    try (NDManager step = model.newStepManager()) {
      double[] onehot = new double[Math.toIntExact(w.size())];
      onehot[idx] = delta;
      NDArray d = step.create(onehot).reshape(w.getShape());
      w.addi(d);
      double loss = LmTrainer.loss(model, step, batch).getDouble();
      w.subi(d);
      return loss;
    }
  }

  @Test
  void managedArrayCountIsFlatAcrossFiftySteps() {
    ModelConfig config = ModelConfig.tiny(40);
    try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT32, 1)) {
      LmTrainer trainer = new LmTrainer(model, new LmTrainer.Schedule(1e-3f, 5, 60), 0.01f);
      LmTrainer.Batch batch = batch(4, 16, config.vocabSize(), 1);
      float first = trainer.step(batch); // creates AdamW's moments once
      int before = model.managedArrayCount();
      float last = first;
      for (int i = 0; i < 50; i++) {
        last = trainer.step(batch);
        assertEquals(before, model.managedArrayCount(), "step " + i);
      }
      assertTrue(last < first, "loss should fall on a repeated batch: " + first + " -> " + last);
      assertTrue(Float.isFinite(last));
    }
  }

  /**
   * Every array the backward pass reads must outlive it. DJL's {@code mul(Number)} wraps the number
   * in a temporary array over a direct buffer and closes it at once while autograd keeps it; a
   * garbage collection between forward and backward then frees the buffer, whose memory the
   * backward reads. Here a collection and fresh garbage-filled buffers sit in that gap.
   */
  @Test
  void gradientsSurviveAGarbageCollectionBetweenForwardAndBackward() throws InterruptedException {
    ModelConfig config = new ModelConfig(11, 8, 2, 2, 1, 12, 10_000, 32, 1e-5, false);
    LmTrainer.Batch batch = batch(2, 6, config.vocabSize(), 3);
    try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT64, 5)) {
      model.parameters().values().forEach(p -> p.muli(10));
      model.requireGradients();
      double[] reference = gradients(model, batch, false);
      for (int round = 0; round < 3; round++) {
        double[] disturbed = gradients(model, batch, true);
        for (int i = 0; i < reference.length; i++) {
          assertEquals(reference[i], disturbed[i], 1e-9 * (1 + Math.abs(reference[i])), "gradient entry " + i);
        }
      }
    }
  }

  private static double[] gradients(Transformer model, LmTrainer.Batch batch, boolean disturb) throws InterruptedException {
    try (NDManager step = model.newStepManager(); GradientCollector gc = step.getEngine().newGradientCollector()) {
      NDArray loss = LmTrainer.loss(model, step, batch);
      if (disturb) {
        System.gc();
        Thread.sleep(50); // the cleaner thread frees unreachable direct buffers
        java.util.List<java.nio.ByteBuffer> garbage = new java.util.ArrayList<>();
        for (int i = 0; i < 2000; i++) {
          java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(8).order(java.nio.ByteOrder.nativeOrder());
          b.putDouble(0, 1e6);
          garbage.add(b);
        }
      }
      gc.backward(loss);
    }
    java.util.List<Double> all = new java.util.ArrayList<>();
    for (NDArray p : model.parameters().values()) {
      try (NDArray g = p.getGradient()) {
        for (double x : g.toDoubleArray()) {
          all.add(x);
        }
        g.subi(g);
      }
    }
    return all.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /**
   * A step over a batch split into parts is the step over the whole batch: each part is divided by
   * the tokens of all parts, not averaged on its own (which would weigh a short part like a long one
   * and grow the effective learning rate with the number of parts).
   */
  @Test
  void aStepOverPartsNormalisesOverAllTheirTokens() {
    ModelConfig config = new ModelConfig(11, 8, 2, 2, 1, 12, 10_000, 32, 1e-5, false);
    LmTrainer.Batch whole = batch(3, 6, config.vocabSize(), 4);
    LmTrainer.Batch first = new LmTrainer.Batch(java.util.Arrays.copyOf(whole.tokens(), 1),
        java.util.Arrays.copyOf(whole.segments(), 1), java.util.Arrays.copyOf(whole.targets(), 1),
        java.util.Arrays.copyOf(whole.weights(), 1));
    LmTrainer.Batch rest = new LmTrainer.Batch(java.util.Arrays.copyOfRange(whole.tokens(), 1, 3),
        java.util.Arrays.copyOfRange(whole.segments(), 1, 3), java.util.Arrays.copyOfRange(whole.targets(), 1, 3),
        java.util.Arrays.copyOfRange(whole.weights(), 1, 3));
    try (Transformer a = Transformer.init(config, Device.cpu(), DataType.FLOAT64, 5);
        Transformer b = Transformer.init(config, Device.cpu(), DataType.FLOAT64, 5)) {
      float lossA = new LmTrainer(a, new LmTrainer.Schedule(1e-2f, 1, 10), 0f).step(whole);
      float lossB = new LmTrainer(b, new LmTrainer.Schedule(1e-2f, 1, 10), 0f).step(java.util.List.of(
          new LmTrainer.Part(step -> LmTrainer.sum(b, step, first), first.trainedTokens()),
          new LmTrainer.Part(step -> LmTrainer.sum(b, step, rest), rest.trainedTokens())));
      assertEquals(lossA, lossB, 1e-6 * Math.abs(lossA));
      for (String name : a.parameters().keySet()) {
        double[] pa = a.parameters().get(name).toDoubleArray();
        double[] pb = b.parameters().get(name).toDoubleArray();
        for (int i = 0; i < pa.length; i++) {
          assertEquals(pa[i], pb[i], 1e-9, name + "[" + i + "]");
        }
      }
    }
  }
}
