package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

/**
 * Rotary position embeddings (Su et al. 2021) computed from explicit position ids, in the
 * "rotate half" layout of Hugging Face Llama: dimension i pairs with i + hs/2. Taking the ids
 * rather than a range is what lets packed, multi-turn and left-padded layouts share one code path.
 */
public final class Rotary {
  private final float[] invFreq; // (hs/2)

  public Rotary(int headDim, double theta) {
    invFreq = new float[headDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      invFreq[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / headDim));
    }
  }

  /** Cosines and sines for positions (B, T): two arrays of shape (B, 1, T, hs/2). */
  public NDList angles(NDArray positions, DataType dtype) {
    NDArray freq = positions.getManager().create(invFreq).toType(dtype, false); // (hs/2)
    NDArray angle = positions.toType(dtype, false).expandDims(2).mul(freq); // (B, T, hs/2)
    NDArray cos = angle.cos().expandDims(1); // (B, 1, T, hs/2)
    NDArray sin = angle.sin().expandDims(1); // (B, 1, T, hs/2)
    return new NDList(cos, sin);
  }

  /**
   * The single-token step's rotary factors for positions (B): (B, 2, Q) flattened, Q = (rotated +
   * plain) * hs. Row 0 holds cos for the {@code rotated} heads and 1 for the {@code plain} ones,
   * row 1 sin and 0, so y * cs summed over the pair is x cos + rotate_half(x) sin (and v as it is)
   * when y stacks x over rotate_half(x). Angles are float products, as in {@link #angles}.
   */
  public float[] stepFactors(int[] positions, int rotated, int plain) {
    int hs = invFreq.length * 2;
    int q = (rotated + plain) * hs;
    float[] cs = new float[positions.length * 2 * q];
    float[] cos = new float[hs];
    float[] sin = new float[hs];
    for (int b = 0; b < positions.length; b++) {
      for (int i = 0; i < invFreq.length; i++) {
        float angle = positions[b] * invFreq[i];
        cos[i] = cos[i + invFreq.length] = (float) Math.cos(angle);
        sin[i] = sin[i + invFreq.length] = (float) Math.sin(angle);
      }
      int base = b * 2 * q;
      for (int h = 0; h < rotated; h++) {
        System.arraycopy(cos, 0, cs, base + h * hs, hs);
        System.arraycopy(sin, 0, cs, base + q + h * hs, hs);
      }
      java.util.Arrays.fill(cs, base + rotated * hs, base + q, 1f);
    }
    return cs;
  }

  /** Rotates x (B, n, T, hs) by the angles of {@link #angles}. */
  public static NDArray apply(NDArray x, NDList cosSin) {
    NDArray cos = cosSin.get(0); // (B, 1, T, hs/2)
    NDArray sin = cosSin.get(1); // (B, 1, T, hs/2)
    long half = x.getShape().get(3) / 2;
    NDList halves = x.split(new long[] {half}, 3);
    NDArray x1 = halves.get(0); // (B, n, T, hs/2)
    NDArray x2 = halves.get(1); // (B, n, T, hs/2)
    NDArray r1 = x1.mul(cos).sub(x2.mul(sin)); // (B, n, T, hs/2)
    NDArray r2 = x2.mul(cos).add(x1.mul(sin)); // (B, n, T, hs/2)
    return r1.concat(r2, 3); // (B, n, T, hs)
  }
}
