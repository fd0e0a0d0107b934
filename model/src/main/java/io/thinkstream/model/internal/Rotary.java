package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
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

  /**
   * [I | R] (hs, 2 hs) with x R = rotate_half(x) = [-x2, x1]: one matrix product gives every
   * head's vector next to its rotated copy.
   */
  public NDArray halfTurn(NDManager manager, DataType dtype) {
    int hs = invFreq.length * 2;
    int half = invFreq.length;
    float[] m = new float[hs * 2 * hs];
    for (int i = 0; i < hs; i++) {
      m[i * 2 * hs + i] = 1f;
    }
    for (int j = 0; j < half; j++) {
      m[(j + half) * 2 * hs + hs + j] = -1f;
      m[j * 2 * hs + hs + j + half] = 1f;
    }
    return manager.create(m, new Shape(hs, 2L * hs)).toType(dtype, false); // (hs, 2hs)
  }

  /** (cos | sin) over the full head dim for positions [0, count): (count, 2 hs), the step's table. */
  public float[][] turns(int count) {
    int half = invFreq.length;
    float[][] turns = new float[count][4 * half];
    for (int p = 0; p < count; p++) {
      for (int i = 0; i < half; i++) {
        float angle = p * invFreq[i];
        turns[p][i] = turns[p][i + half] = (float) Math.cos(angle);
        turns[p][2 * half + i] = turns[p][3 * half + i] = (float) Math.sin(angle);
      }
    }
    return turns;
  }

  /**
   * The cached step's factors for positions (B, T): (B, T, heads, 2 hs) flattened, heads =
   * rotated + plain. A rotated head gets (cos | sin) of its token's position from {@code turns},
   * a plain one (v) (1 | 0). Angles are float products, as in {@link #factors}.
   */
  public static float[] stepFactors(int[][] positions, float[][] turns, int rotated, int plain) {
    int hs2 = turns[0].length;
    int heads = rotated + plain;
    int t = positions[0].length;
    float[] cs = new float[positions.length * t * heads * hs2];
    for (int b = 0; b < positions.length; b++) {
      for (int i = 0; i < t; i++) {
        int base = (b * t + i) * heads * hs2;
        for (int h = 0; h < rotated; h++) {
          System.arraycopy(turns[positions[b][i]], 0, cs, base + h * hs2, hs2);
        }
        for (int h = rotated; h < heads; h++) {
          java.util.Arrays.fill(cs, base + h * hs2, base + h * hs2 + hs2 / 2, 1f);
        }
      }
    }
    return cs;
  }

  /**
   * The full pass's rotary factors, shared by every layer: rotating x is x cos + (x turn) sin, with
   * cos and sin over the full head dim and turn the rotate_half matrix, so a rotation is one small
   * matrix product and three elementwise ops instead of split, four products and concat. The
   * query factors carry {@code queryScale} (the attention's 1/sqrt(hs); rotation is linear, so it
   * commutes), which spares a pass over the (T, S) scores. Each array outlives the backward pass
   * that reads it (they live in the manager of the positions, the step's).
   */
  public record Factors(NDArray cosQ, NDArray sinQ, NDArray cosK, NDArray sinK, NDArray turn) {
    /** Queries (B, T, nh, hs), rotated and scaled. */
    public NDArray queries(NDArray q) {
      return rotate(q, cosQ, sinQ, turn); // (B, T, nh, hs)
    }

    /** Keys (B, T, nkv, hs), rotated. */
    public NDArray keys(NDArray k) {
      return rotate(k, cosK, sinK, turn); // (B, T, nkv, hs)
    }

    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin, NDArray turn) { // x: (B, T, n, hs)
      NDArray turned = x.matMul(turn).muli(sin); // (B, T, n, hs)  rotate_half(x) sin
      return x.mul(cos).addi(turned); // (B, T, n, hs)
    }
  }

  /** {@link Factors} for positions (B, T): cos and sin (B, T, 1, hs), turn (hs, hs). */
  public Factors factors(NDArray positions, DataType dtype, double queryScale) {
    NDManager manager = positions.getManager();
    int half = invFreq.length;
    float[] doubled = new float[2 * half];
    System.arraycopy(invFreq, 0, doubled, 0, half);
    System.arraycopy(invFreq, 0, doubled, half, half);
    NDArray freq = manager.create(doubled).toType(dtype, false); // (hs)
    NDArray angle = positions.toType(dtype, false).expandDims(2).mul(freq); // (B, T, hs)  float products, as the step table's
    NDArray cos = angle.cos().expandDims(2); // (B, T, 1, hs)
    NDArray sin = angle.sin().expandDims(2); // (B, T, 1, hs)
    NDArray scale = Attention.scalar(cos, queryScale); // ()
    return new Factors(cos.mul(scale), sin.mul(scale), cos, sin, turn(manager, dtype)); // 4 x (B, T, 1, hs), (hs, hs)
  }

  /** R (hs, hs) with x R = rotate_half(x) = [-x2, x1]. */
  private NDArray turn(NDManager manager, DataType dtype) {
    int half = invFreq.length;
    int hs = 2 * half;
    float[] r = new float[hs * hs];
    for (int j = 0; j < half; j++) {
      r[(j + half) * hs + j] = -1f;
      r[j * hs + j + half] = 1f;
    }
    return manager.create(r, new Shape(hs, hs)).toType(dtype, false); // (hs, hs)
  }
}
