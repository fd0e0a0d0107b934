package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import java.util.function.BiFunction;

/** One pre-norm decoder layer: x + attn(norm(x)), then x + mlp(norm(x)). */
public final class Block {
  private final RmsNorm ln1;
  private final Attention attn;
  private final RmsNorm ln2;
  private final Mlp mlp;

  public Block(RmsNorm ln1, Attention attn, RmsNorm ln2, Mlp mlp) {
    this.ln1 = ln1;
    this.attn = attn;
    this.ln2 = ln2;
    this.mlp = mlp;
  }

  /** {@code attend} runs this layer's attention on the normed input (dense or block-sparse). */
  public NDArray forward(NDArray x, BiFunction<Attention, NDArray, NDArray> attend) {
    x = x.add(attend.apply(attn, ln1.forward(x))); // (B, T, C)
    return x.add(mlp.forward(ln2.forward(x))); // (B, T, C)
  }
}
