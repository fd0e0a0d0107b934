package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;

/** Root-mean-square layer norm (Zhang and Sennrich 2019), as in Llama: no mean subtraction, no bias. */
public final class RmsNorm {
  private final NDArray weight; // (C)
  private final float eps;

  public RmsNorm(NDArray weight, double eps) {
    this.weight = weight;
    this.eps = (float) eps;
  }

  public NDArray forward(NDArray x) { // x: (B, T, C)
    NDArray ms = x.square().mean(new int[] {-1}, true); // (B, T, 1)
    return x.div(ms.add(eps).sqrt()).mul(weight); // (B, T, C)
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
