package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

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

  public NDArray forward(NDArray x, NDList cosSin, NDArray mask, KvCache cache, int layer) {
    x = x.add(attn.forward(ln1.forward(x), cosSin, mask, cache, layer)); // (B, T, C)
    return x.add(mlp.forward(ln2.forward(x))); // (B, T, C)
  }
}
