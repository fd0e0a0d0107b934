package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
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
   * gate and up reading the step's norm ({@link RmsNorm#stepInput}), 2 x (F, C+1), and down keeping
   * the residual stream's constant column ({@link RmsNorm#stepOutput}), (C+1, F); built from the
   * current parameters for one generation. gate and up stay two matrices: for the step's few rows
   * two (F, C) products beat one (2F, C) product, whose weights no longer fit the core's cache.
   */
  public NDList stepProjection(RmsNorm norm, NDManager into) {
    return new NDList(norm.stepInput(gate, into), norm.stepInput(up, into), RmsNorm.stepOutput(down, into));
  }

  /**
   * h (B*T, C+1) the step's norm ({@link RmsNorm#step}), whose weight {@code projection} (gate, up,
   * down) holds; x (B*T, C+1) the residual stream, added in the down projection's product;
   * temporaries freed at once.
   */
  public NDArray step(NDArray h, NDArray x, NDList projection) {
    NDArray g = Linear.linear(h, projection.get(0)).head(); // (B*T, F)
    NDArray u = Linear.linear(h, projection.get(1)).head(); // (B*T, F)
    NDArray act = Activation.sigmoid(g).muli(g).muli(u); // (B*T, F)  silu(g) * u
    Attention.close(g, u);
    return Attention.free(Linear.linear(act, projection.get(2), x).head(), act); // (B*T, C+1)  x + act down^T
  }
}
