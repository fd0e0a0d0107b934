package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** Root-mean-square layer norm (Zhang and Sennrich 2019), as in Llama: no mean subtraction, no bias. */
public final class RmsNorm {
  private final NDArray weight; // (C)
  private final float eps;

  public RmsNorm(NDArray weight, double eps) {
    this.weight = weight;
    this.eps = (float) eps;
  }

  /**
   * x times rsqrt(mean(x^2) + eps), as Hugging Face Llama computes it: a product by the (B, T, 1)
   * reciprocal differentiates in two passes over x, where a quotient takes four. The exponent is
   * made by an op (full), not from Java data, so it may live in a temporary manager although the
   * backward pass reads it.
   */
  public NDArray forward(NDArray x) { // x: (B, T, C)
    NDArray ms = x.square().mean(new int[] {-1}, true); // (B, T, 1)
    NDArray minusHalf = x.getManager().full(new Shape(), -0.5f, x.getDataType()); // ()
    NDArray r = ms.add(eps).pow(minusHalf); // (B, T, 1)
    return x.mul(r).mul(weight); // (B, T, C)
  }

  /** x / rms(x) without the weight (the step folds it into the next matrix); eps is a () array. */
  public static NDArray unweighted(NDArray x, NDArray eps) { // x: (B, T, C)
    NDArray sq = x.square(); // (B, T, C)
    NDArray ms = Attention.free(sq.mean(new int[] {-1}, true), sq).addi(eps); // (B, T, 1)
    NDArray rms = Attention.free(ms.sqrt(), ms); // (B, T, 1)
    return Attention.free(x.div(rms), rms); // (B, T, C)
  }

  public NDArray weight() {
    return weight; // (C)
  }
}
