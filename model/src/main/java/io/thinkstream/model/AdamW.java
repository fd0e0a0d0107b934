package io.thinkstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.Transformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov & Hutter, PyTorch's formulation) over one flat view of every gradient: the
 * gradients are joined into one vector, clipped by their global norm, and the moments, the bias
 * corrections and the decoupled weight decay are a handful of large ops on that vector; one split
 * hands each parameter its slice. Norms and embeddings get no weight decay unless configured.
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
  private final long[] splits; // offsets of every parameter but the first in the flat vector
  private final NDArray m; // (N)
  private final NDArray v; // (N)
  private final NDArray decay; // (N) 1 where weight decay applies
  private int steps;
  private int skipped;

  public AdamW(Transformer model, Settings settings) {
    this.model = model;
    this.s = settings;
    this.manager = model.newStepManager();
    this.params = new ArrayList<>(model.parameters().values());
    this.splits = new long[params.size() - 1];
    long n = 0;
    List<NDArray> mask = new ArrayList<>();
    int i = 0;
    for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
      if (i > 0) {
        splits[i - 1] = n;
      }
      long size = e.getValue().size();
      boolean decays = settings.decayNormsAndEmbeddings() || !exempt(e.getKey());
      mask.add(decays ? manager.ones(new ai.djl.ndarray.types.Shape(size), model.dataType())
          : manager.zeros(new ai.djl.ndarray.types.Shape(size), model.dataType()));
      n += size;
      i++;
    }
    this.decay = NDArrays.concat(new NDList(mask)); // (N)
    mask.forEach(NDArray::close);
    this.m = manager.zeros(new ai.djl.ndarray.types.Shape(n), model.dataType()); // (N)
    this.v = manager.zeros(new ai.djl.ndarray.types.Shape(n), model.dataType()); // (N)
    model.requireGradients();
  }

  /** Norm weights and the token embedding: no decay by default (as in nanoGPT's optimizer groups). */
  static boolean exempt(String name) {
    return name.endsWith("norm.weight") || name.equals("model.embed_tokens.weight");
  }

  /**
   * Applies the gradients the last backward passes accumulated, then zeroes them. Returns what
   * happened; a non-finite gradient norm or {@code finiteLoss == false} skips the update.
   */
  public Update step(boolean finiteLoss) {
    try (NDManager step = model.newStepManager()) {
      List<NDArray> grads = new ArrayList<>(params.size());
      NDList flat = new NDList(params.size());
      for (NDArray p : params) {
        NDArray g = p.getGradient(); // a view attached to the model's manager ...
        g.attach(step); // ... so it must die with the step
        grads.add(g);
        flat.add(g.reshape(-1)); // (n_i)
      }
      NDArray g = NDArrays.concat(flat); // (N)
      double norm = Math.sqrt(g.square().sum().toType(DataType.FLOAT64, false).getDouble());
      double lr = s.schedule().getNewValue(steps);
      if (!finiteLoss || !Double.isFinite(norm)) {
        skipped++;
        grads.forEach(x -> x.set(new NDIndex("..."), 0)); // NaN - NaN is NaN: overwrite, not subtract
        return new Update(false, norm, lr);
      }
      double clip = s.clipNorm() > 0 ? Math.min(1.0, s.clipNorm() / (norm + 1e-6)) : 1.0;
      steps++;
      double c1 = 1 - Math.pow(s.beta1(), steps);
      double c2 = 1 - Math.pow(s.beta2(), steps);
      DataType dt = model.dataType();
      g = g.mul(scalar(step, clip, dt)); // (N)
      m.muli(s.beta1()).addi(g.mul(scalar(step, 1 - s.beta1(), dt))); // (N)
      v.muli(s.beta2()).addi(g.square().mul(scalar(step, 1 - s.beta2(), dt))); // (N)
      NDArray denom = scalar(step, 1 / c2, dt).mul(v).sqrt().add(scalar(step, s.eps(), dt)); // (N)
      NDArray adam = scalar(step, lr / c1, dt).mul(m).div(denom); // (N)
      NDList joined = new NDList(params.size());
      for (NDArray p : params) {
        NDArray f = p.reshape(-1); // (n_i) a view, attached to the model's manager ...
        f.attach(step); // ... so it must die with the step
        joined.add(f);
      }
      NDArray decayed = NDArrays.concat(joined).mul(decay).mul(scalar(step, lr * s.weightDecay(), dt)); // (N)
      NDList delta = adam.add(decayed).split(splits); // P x (n_i)
      for (int i = 0; i < params.size(); i++) {
        NDArray p = params.get(i);
        p.subi(delta.get(i).reshape(p.getShape()));
        grads.get(i).subi(grads.get(i)); // DJL's collector accumulates: start the next step from zero
      }
      return new Update(true, norm, lr);
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

  private static NDArray scalar(NDManager step, double value, DataType dtype) {
    return step.create(value).toType(dtype, false); // ()
  }

  @Override
  public void close() {
    manager.close();
  }
}
