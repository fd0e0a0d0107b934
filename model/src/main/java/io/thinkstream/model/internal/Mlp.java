package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

/** SwiGLU feed-forward (Shazeer 2020): down(silu(gate(x)) * up(x)), no biases, as in Llama. */
public final class Mlp {
  private final NDArray gate; // (F, C)
  private final NDArray up; // (F, C)
  private final NDArray down; // (C, F)

  public Mlp(NDArray gate, NDArray up, NDArray down) {
    this.gate = gate;
    this.up = up;
    this.down = down;
  }

  public NDArray forward(NDArray x) { // x: (B, T, C)
    NDArray g = Linear.linear(x, gate).head(); // (B, T, F)
    NDArray u = Linear.linear(x, up).head(); // (B, T, F)
    NDArray h = g.mul(Activation.sigmoid(g)).mul(u); // (B, T, F)  silu(g) * u
    return Linear.linear(h, down).head(); // (B, T, C)
  }

  /**
   * gate and up stacked into one (2F, C) matrix with the input norm's weight folded into its
   * columns, built from the current parameters for one generation.
   */
  public NDArray stepProjection(NDArray normWeight, NDManager into) {
    try (NDManager tmp = into.newSubManager()) {
      NDArray in = NDArrays.concat(new NDList(gate, up), 0); // (2F, C)  made in the parameters' manager
      in.attach(tmp);
      NDArray w = normWeight.duplicate(); // (C)
      w.attach(tmp);
      NDArray weighted = in.mul(w.expandDims(0)); // (2F, C)
      weighted.attach(into);
      return weighted;
    }
  }

  /** h (B, T, C) RMS-normalised without its weight, which {@code projection} holds; temporaries freed at once. */
  public NDArray step(NDArray h, NDArray projection) {
    NDArray y = Linear.linear(h, projection).head(); // (B, T, 2F)
    NDList gu = y.split(new long[] {gate.getShape().get(0)}, 2); // 2 x (B, T, F)
    y.close();
    NDArray act = Activation.sigmoid(gu.get(0)).muli(gu.get(0)).muli(gu.get(1)); // (B, T, F)  silu(g) * u
    gu.close();
    return Attention.free(Linear.linear(act, down).head(), act); // (B, T, C)
  }
}
