package io.thinkstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov & Hutter, PyTorch's formulation) over one flat view of every gradient: the
 * gradients are joined into one vector, clipped by their global norm, and the moments and the
 * bias-corrected step are a handful of large in-place ops on that vector; one split hands each
 * parameter its slice. Norms and embeddings get no weight decay unless configured.
 *
 * <p>The scalars are folded so that each op is one pass: with g' = (1 - b1) c g (c the clip
 * factor), m = b1 m + g' and v = b2 v + k g'^2, k = (1 - b2) / (1 - b1)^2; the step
 * lr / c1 * m / (sqrt(v / c2) + eps) is (lr sqrt(c2) / c1) * m / (sqrt(v) + eps sqrt(c2)).
 *
 * <p>A non-finite gradient norm skips the step (gradients zeroed, moments and step count kept) and
 * is counted. The moments live in this optimizer's manager and are created once.
 */
public final class AdamW implements AutoCloseable {
  /** Hyperparameters; {@code clipNorm} ≤ 0 disables clipping. */
  public record Settings(LmTrainer.Schedule schedule, double beta1, double beta2, double eps, double weightDecay,
      double clipNorm, boolean decayNormsAndEmbeddings) {}

  /** What one {@link #step} did: whether it updated, the gradient norm before clipping, the learning rate. */
  public record Update(boolean applied, double gradNorm, double learningRate) {}

  private final Transformer model;
  private final Settings s;
  private final NDManager manager;
  private final List<NDArray> params;
  private final boolean[] decays; // per parameter: whether weight decay applies
  private final long[] splits; // offsets of every parameter but the first in the flat vector
  private final NDArray m; // (N)
  private final NDArray v; // (N)
  private int steps;
  private int skipped;

  public AdamW(Transformer model, Settings settings) {
    this.model = model;
    this.s = settings;
    this.manager = model.newStepManager();
    this.params = new ArrayList<>(model.parameters().values());
    this.decays = new boolean[params.size()];
    this.splits = new long[params.size() - 1];
    long n = 0;
    int i = 0;
    for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
      if (i > 0) {
        splits[i - 1] = n;
      }
      decays[i] = settings.decayNormsAndEmbeddings() || !exempt(e.getKey());
      n += e.getValue().size();
      i++;
    }
    this.m = manager.zeros(new Shape(n), model.dataType()); // (N)
    this.v = manager.zeros(new Shape(n), model.dataType()); // (N)
    model.requireGradients();
  }

  /** Norm weights and the token embedding: no decay by default (as in nanoGPT's optimizer groups). */
  public static boolean exempt(String name) {
    return name.endsWith("norm.weight") || name.equals("model.embed_tokens.weight");
  }

  /**
   * Applies the gradients the last backward passes accumulated, then zeroes them. Returns what
   * happened; a non-finite gradient norm or {@code finiteLoss == false} skips the update.
   */
  public Update step(boolean finiteLoss) {
    try (NDManager step = model.newStepManager()) {
      NDList flat = new NDList(params.size());
      for (NDArray p : params) {
        NDArray g = p.getGradient(); // a view attached to the model's manager ...
        g.attach(step); // ... so it must die with the step
        flat.add(g.reshape(-1)); // (n_i)
      }
      NDArray g = NDArrays.concat(flat); // (N)
      double norm = g.norm().toType(DataType.FLOAT64, false).getDouble();
      double lr = s.schedule().getNewValue(steps);
      if (!finiteLoss || !Double.isFinite(norm)) {
        skipped++;
        zeroGradients(); // NaN - NaN is NaN: overwrite, not subtract
        return new Update(false, norm, lr);
      }
      double clip = s.clipNorm() > 0 ? Math.min(1.0, s.clipNorm() / (norm + 1e-6)) : 1.0;
      steps++;
      double c1 = 1 - Math.pow(s.beta1(), steps);
      double c2 = 1 - Math.pow(s.beta2(), steps);
      g.muli(scalar(step, (1 - s.beta1()) * clip)); // (N)  g'
      m.muli(scalar(step, s.beta1())).addi(g); // (N)
      NDArray sq = g.muli(g).muli(scalar(step, (1 - s.beta2()) / ((1 - s.beta1()) * (1 - s.beta1())))); // (N)  k g'^2
      v.muli(scalar(step, s.beta2())).addi(sq); // (N)
      NDArray denom = inStep(v.sqrt(), step).addi(scalar(step, s.eps() * Math.sqrt(c2))); // (N)
      NDArray delta = inStep(m.div(denom), step).muli(scalar(step, lr * Math.sqrt(c2) / c1)); // (N)
      NDList slices = delta.split(splits); // P x (n_i)
      NDArray shrink = scalar(step, 1 - lr * s.weightDecay()); // ()
      for (int i = 0; i < params.size(); i++) {
        NDArray p = params.get(i);
        if (decays[i] && s.weightDecay() != 0) {
          p.muli(shrink); // decoupled decay: p (1 - lr wd)
        }
        p.subi(slices.get(i).reshape(p.getShape()));
      }
      model.parametersChanged(); // the sampling step's fused copies of the weights are stale now
      zeroGradients(); // DJL's collector accumulates: start the next step from zero
      return new Update(true, norm, lr);
    }
  }

  /** Results attach to their first operand's manager: a temporary computed from a moment must die with the step. */
  private static NDArray inStep(NDArray temporary, NDManager step) {
    temporary.attach(step);
    return temporary;
  }

  private void zeroGradients() {
    for (NDArray p : params) {
      JniUtils.zeroGrad((PtNDArray) p);
    }
  }

  /** Whether every parameter is finite: no checkpoint of non-finite weights is ever published. */
  public boolean parametersFinite() {
    try (NDManager step = model.newStepManager()) {
      double total = 0;
      for (NDArray p : params) {
        NDArray f = p.reshape(-1); // (n_i) a view, attached to the model's manager ...
        f.attach(step); // ... so it must die with the step
        total += f.sum().toType(DataType.FLOAT64, false).getDouble();
      }
      return Double.isFinite(total);
    }
  }

  public int steps() {
    return steps;
  }

  public int skipped() {
    return skipped;
  }

  /** Moments as plain arrays, for a checkpoint. */
  public double[][] moments() {
    return new double[][] {m.toType(DataType.FLOAT64, false).toDoubleArray(), v.toType(DataType.FLOAT64, false).toDoubleArray()};
  }

  /** Restores a checkpoint's moments and step count: a resumed run continues its schedule. */
  public void restore(double[] first, double[] second, int stepCount, int skippedCount) {
    if (first.length != m.size() || second.length != v.size()) {
      throw new IllegalArgumentException("optimizer state has " + first.length + "/" + second.length
          + " moments, the model " + m.size() + " parameters");
    }
    try (NDManager tmp = model.newStepManager()) {
      m.set(new NDIndex("..."), tmp.create(first).toType(m.getDataType(), false));
      v.set(new NDIndex("..."), tmp.create(second).toType(v.getDataType(), false));
    }
    this.steps = stepCount;
    this.skipped = skippedCount;
  }

  /** A () constant of the parameters' type. */
  private NDArray scalar(NDManager step, double value) {
    return step.create(value).toType(model.dataType(), false); // ()
  }

  @Override
  public void close() {
    manager.close();
  }
}
