package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
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
}
