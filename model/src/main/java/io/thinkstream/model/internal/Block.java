package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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

  /**
   * {@code attend} runs this layer's attention on the normed input (dense or block-sparse). The
   * layer's temporaries live in their own manager, closed when the layer is done, as eager
   * PyTorch frees a tensor when its last reference goes: what the backward pass needs, autograd
   * holds itself, and the rest goes back to the allocator while it is still in cache instead of
   * piling up until the step ends. (Arrays the backward pass reads that are made from Java data,
   * not by an op, must not be made here: they belong to the step's manager.)
   */
  public NDArray forward(NDArray x, BiFunction<Attention, NDArray, NDArray> attend) {
    NDManager step = x.getManager();
    try (NDManager layer = step.newSubManager()) {
      x.tempAttach(layer); // results attach to their first operand's manager: this layer's
      NDArray h = x.add(attend.apply(attn, ln1.forward(x))); // (B, T, C)
      NDArray out = h.add(mlp.forward(ln2.forward(h))); // (B, T, C)
      out.attach(step);
      return out;
    }
  }

  /** This layer's fused matrices for the single-token step of one generation. */
  public record StepWeights(NDList attention, NDList mlp) {}

  public StepWeights stepWeights(NDManager into) {
    return new StepWeights(attn.stepProjection(ln1, into), mlp.stepProjection(ln2, into));
  }

  /**
   * T new tokens per row as the residual stream x (B*T, C+1), its last column the step constant
   * ({@link RmsNorm#step}), 2-D so that each residual add happens inside the matrix product before
   * it (linear with x as its bias is one addmm); x is closed and the layer's output returned.
   * {@code attend} runs this layer's attention step on the normed input ({@link Attention#step}
   * through libtorch ops, or {@link Attention#stepOnHost}).
   */
  public NDArray step(NDArray x, StepWeights w, StepAttention attend) {
    NDArray h = RmsNorm.step(x); // (B*T, C+1)
    NDArray a = Attention.free(attend.apply(attn, h, x, w.attention()), h, x); // (B*T, C+1)
    h = RmsNorm.step(a); // (B*T, C+1)
    return Attention.free(mlp.step(h, a, w.mlp()), h, a); // (B*T, C+1)
  }

  /** A layer's attention in the decoding step: x + attention(h) (B*T, C+1) from its fused projection. */
  @FunctionalInterface
  public interface StepAttention {
    NDArray apply(Attention attn, NDArray h, NDArray x, NDList projection);
  }
}
