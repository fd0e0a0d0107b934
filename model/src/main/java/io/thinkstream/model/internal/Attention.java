package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.core.Linear;

/**
 * Grouped-query self-attention (Ainslie et al. 2023) with rotary positions and an explicit
 * additive mask (B, 1, T, S): 0 where a query may look, a large negative number where it may not.
 * Causal, padded, packed and custom block layouts differ only in that mask. DJL has no fused
 * attention op, so this is matMul + mask + softmax; queries are grouped by their kv head instead of
 * repeating keys, which saves copying K and V g times.
 */
public final class Attention {
  private final NDArray wq; // (nh*hs, C)
  private final NDArray wk; // (nkv*hs, C)
  private final NDArray wv; // (nkv*hs, C)
  private final NDArray wo; // (C, nh*hs)
  private final int nh;
  private final int nkv;
  private final int hs;

  public Attention(NDArray wq, NDArray wk, NDArray wv, NDArray wo, int nh, int nkv, int hs) {
    this.wq = wq;
    this.wk = wk;
    this.wv = wv;
    this.wo = wo;
    this.nh = nh;
    this.nkv = nkv;
    this.hs = hs;
  }

  public NDArray forward(NDArray x, NDList cosSin, NDArray mask, KvCache cache, int layer) {
    long b = x.getShape().get(0);
    long t = x.getShape().get(1);
    int g = nh / nkv;
    NDArray q = Linear.linear(x, wq).head().reshape(b, t, nh, hs).transpose(0, 2, 1, 3); // (B, nh, T, hs)
    NDArray k = Linear.linear(x, wk).head().reshape(b, t, nkv, hs).transpose(0, 2, 1, 3); // (B, nkv, T, hs)
    NDArray v = Linear.linear(x, wv).head().reshape(b, t, nkv, hs).transpose(0, 2, 1, 3); // (B, nkv, T, hs)
    q = Rotary.apply(q, cosSin); // (B, nh, T, hs)
    k = Rotary.apply(k, cosSin); // (B, nkv, T, hs)
    if (cache != null) {
      NDArray[] kv = cache.append(layer, k, v);
      k = kv[0]; // (B, nkv, S, hs)
      v = kv[1]; // (B, nkv, S, hs)
    }
    long s = k.getShape().get(2);
    NDArray qg = q.reshape(b, nkv, g * t, hs); // (B, nkv, g*T, hs)  head h uses kv head h / g
    NDArray att = qg.matMul(k.transpose(0, 1, 3, 2)).mul(scalar(x, 1.0 / Math.sqrt(hs))); // (B, nkv, g*T, S)
    att = att.reshape(b, nkv, g, t, s).add(mask.expandDims(1)); // (B, nkv, g, T, S)
    att = att.softmax(4).reshape(b, nkv, g * t, s); // (B, nkv, g*T, S)
    NDArray y = att.matMul(v); // (B, nkv, g*T, hs)
    y = y.reshape(b, nh, t, hs).transpose(0, 2, 1, 3).reshape(b, t, nh * hs); // (B, T, nh*hs)
    return Linear.linear(y, wo).head(); // (B, T, C)
  }

  /**
   * A constant in x's (step) manager. Never {@code mul(Number)} on a path that is differentiated:
   * DJL wraps the number in an array over a direct buffer and closes it at once, while autograd
   * keeps it for the backward pass, which then reads freed memory after a garbage collection.
   */
  public static NDArray scalar(NDArray x, double value) {
    return x.getDataType() == ai.djl.ndarray.types.DataType.FLOAT64
        ? x.getManager().create(value) // ()
        : x.getManager().create((float) value).toType(x.getDataType(), false); // ()
  }
}
