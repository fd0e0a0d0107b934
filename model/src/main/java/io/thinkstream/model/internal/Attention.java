package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import io.thinkstream.model.AttentionBlocks;
import java.util.ArrayList;
import java.util.List;

/**
 * Grouped-query self-attention (Ainslie et al. 2023) with rotary positions and an explicit
 * additive mask (B, 1, T, S): 0 where a query may look, a large negative number where it may not.
 * Causal, padded, packed and custom block layouts differ only in that mask. DJL has no fused
 * attention op, so this is matMul + mask + softmax; queries are grouped by their kv head instead of
 * repeating keys, which saves copying K and V g times. The full pass takes the mask tiled once
 * over each kv head's g query heads ({@link #groupedMask}), adds it in place to the scores, and
 * gets the 1/sqrt(hs) scale from the queries' rotary factors: the (T, S) scores see one matrix
 * product, one in-place add and the softmax.
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

  /**
   * x (B, T, C) under {@code mask} (B, 1, g*T, S), the additive mask of {@link #groupedMask}. With a
   * cache, the new keys and values are written after the cached ones first (S counts them all).
   */
  public NDArray forward(NDArray x, Rotary.Factors rope, NDArray mask, KvCache cache, int layer) {
    NDArray[] qkv = project(x, rope);
    NDArray q = grouped(qkv[0]); // (B, nkv, g*T, hs)
    NDArray kT = qkv[1].transpose(0, 2, 3, 1); // (B, nkv, hs, T)
    NDArray v = qkv[2].transpose(0, 2, 1, 3); // (B, nkv, T, hs)
    if (cache != null) {
      NDArray[] kv = cache.append(layer, kT, v);
      kT = kv[0]; // (B, nkv, hs, S)
      v = kv[1]; // (B, nkv, S, hs)
    }
    return output(heads(attend(q, kT, v, mask))); // (B, T, C)
  }

  /**
   * An additive mask (B, 1, T, S) repeated for the g query heads of each kv head, (B, 1, g*T, S),
   * in the row order of {@link #grouped} queries; built once per pass and shared by every layer.
   */
  public static NDArray groupedMask(NDArray mask, int g) {
    return g == 1 ? mask : mask.tile(new long[] {1, 1, g, 1}); // (B, 1, g*T, S)
  }

  /**
   * Queries longer than this attend in chunks under a causal mask ({@link #forwardCausal}): 64
   * keeps each chunk's products large while skipping most of the hidden triangle.
   */
  public static final int CHUNK = 64;

  /** Where the query chunks of a causal pass over T positions end: CHUNK, 2 CHUNK, ..., T. */
  public static long[] chunkEnds(long t) {
    int n = Math.toIntExact((t + CHUNK - 1) / CHUNK);
    long[] ends = new long[Math.max(1, n)];
    for (int i = 0; i < ends.length; i++) {
      ends[i] = Math.min(t, (long) (i + 1) * CHUNK);
    }
    return ends;
  }

  /**
   * x (B, T, C) under a causal mask, in query chunks: chunk i, rows [e_(i-1), e_i), attends to
   * keys [0, e_i) only, under {@code masks.get(i)} (B, 1, g*L_i, e_i), the grouped rows of the full
   * mask restricted there. A causal mask (segments, padding and turns only hide more) hides every
   * later key, so the scores of the hidden upper triangle — about (n - 1) / 2n of them with n
   * chunks — are never computed, and the result equals {@link #forward}'s.
   */
  public NDArray forwardCausal(NDArray x, Rotary.Factors rope, long[] ends, List<NDArray> masks) {
    NDArray[] qkv = project(x, rope);
    NDList qs = split(qkv[0], java.util.Arrays.copyOf(ends, ends.length - 1)); // chunks x (B, L_i, nh, hs)
    NDArray kT = qkv[1].transpose(0, 2, 3, 1); // (B, nkv, hs, T)
    NDArray v = qkv[2].transpose(0, 2, 1, 3); // (B, nkv, T, hs)
    NDList outs = new NDList();
    for (int i = 0; i < ends.length; i++) {
      boolean last = i == ends.length - 1; // the whole row: no slice, whose backward would write a zero-padded copy
      NDArray ki = last ? kT : kT.get(new NDIndex(":, :, :, :{}", ends[i])); // (B, nkv, hs, e_i)
      NDArray vi = last ? v : v.get(new NDIndex(":, :, :{}", ends[i])); // (B, nkv, e_i, hs)
      outs.add(heads(attend(grouped(qs.get(i)), ki, vi, masks.get(i)))); // (B, L_i, nh*hs)
    }
    return output(outs.size() == 1 ? outs.head() : NDArrays.concat(outs, 1)); // (B, T, C)
  }

  /**
   * The chunk masks of {@link #forwardCausal} from a full additive mask (B, 1, T, T): rows
   * [e_(i-1), e_i), columns [0, e_i), grouped; built once per pass and shared by every layer.
   */
  public static List<NDArray> chunkMasks(NDArray mask, long[] ends, int g) {
    List<NDArray> out = new ArrayList<>();
    long from = 0;
    for (long e : ends) {
      out.add(groupedMask(mask.get(new NDIndex(":, :, {}:{}, :{}", from, e, e)), g)); // (B, 1, g*L_i, e_i)
      from = e;
    }
    return out;
  }

  /**
   * The matrices of the single-token step, built from the current parameters for one generation
   * (so training never sees them): q, k and v stacked into one projection (Q, C+1) that reads the
   * step's norm ({@link RmsNorm#stepInput}), Q = (nh + 2 nkv) * hs, with the attention scale folded
   * into q's rows (rotation is linear, so it commutes); and the output projection (C+1, nh*hs)
   * that keeps the residual stream's constant column ({@link RmsNorm#stepOutput}).
   */
  public NDList stepProjection(RmsNorm norm, NDManager into) {
    try (NDManager tmp = into.newSubManager()) {
      NDArray q = own(wq, tmp).mul(tmp.create((float) (1.0 / Math.sqrt(hs))).toType(wq.getDataType(), false)); // (nh*hs, C)
      NDArray in = NDArrays.concat(new NDList(q, wk, wv), 0); // (Q, C)
      return new NDList(norm.stepInput(in, into), RmsNorm.stepOutput(wo, into)); // (Q, C+1), (C+1, nh*hs)
    }
  }

  private static NDArray own(NDArray parameter, NDManager tmp) {
    NDArray copy = parameter.duplicate();
    copy.attach(tmp);
    return copy;
  }

  /**
   * T new tokens per row (the prompt, then one per step) through the cache: h (B*T, C+1) is the
   * step's norm ({@link RmsNorm#step}; its weight lives in {@code projection}, the (Q, C+1) input
   * and (C+1, nh*hs) output matrices), x (B*T, C+1) the residual stream
   * the output projection adds to in the same matrix product, mask (B, 1, 1, T, S) the
   * additive mask over the filled cache columns including the new ones. Rotary: every head's (hs)
   * vector times {@code halfTurn} (hs, 2 hs) is [x | rotate_half(x)]; times cs (B, T, heads, 2 hs),
   * the (cos | sin) of each token's position (1 | 0 for v's heads), summed over the pair it is
   * x cos + rotate_half(x) sin. Temporaries are freed as soon as they are dead, so the allocator
   * hands the next op memory that is still in cache, as eager PyTorch's reference counting does.
   */
  public NDArray step(NDArray h, NDArray x, long b, long t, NDList projection, NDArray halfTurn, NDArray cs,
      NDArray mask, KvCache cache, int layer) {
    long heads = nh + 2L * nkv;
    int g = nh / nkv;
    NDArray y = Linear.linear(h, projection.get(0)).head(); // (B*T, heads*hs)
    NDArray pair = free(y.reshape(b, t, heads, hs).matMul(halfTurn), y).muli(cs); // (B, T, heads, 2hs)
    NDArray rotated = free(pair.reshape(b, t, heads, 2, hs).sum(new int[] {3}), pair); // (B, T, heads, hs)
    NDList qkv = rotated.split(new long[] {nh, nh + nkv}, 2); // (B, T, nh, hs), 2 x (B, T, nkv, hs)
    rotated.close();
    NDArray kT = qkv.get(1).transpose(0, 2, 3, 1); // (B, nkv, hs, T)
    NDArray v = qkv.get(2).transpose(0, 2, 1, 3); // (B, nkv, T, hs)
    NDArray[] kv = cache.append(layer, kT, v); // (B, nkv, hs, S), (B, nkv, S, hs)
    NDArray q = t == 1
        ? qkv.get(0).reshape(b, nkv, g, hs) // (B, nkv, g, hs)
        : qkv.get(0).reshape(b, t, nkv, g, hs).transpose(0, 2, 3, 1, 4).reshape(b, nkv, g * t, hs); // (B, nkv, g*T, hs)
    close(kT, v);
    qkv.close();
    NDArray out = attendStep(q, kv, mask, x, b, t, projection.get(1)); // (B*T, C+1)
    q.close();
    return out;
  }

  /**
   * {@link #step} with the rotation and the cache writes done in Java on the memory of float32 CPU
   * arrays ({@link HostArray}, {@link KvCache#onHost}): the projection's (B*T, heads*hs) output is
   * read once, each query head rotated into {@code queries} (B, nkv, g*T, hs), each kv head's
   * rotated key and value written into the cache at the row's next column. Rotation is
   * x cos + rotate_half(x) sin with (cos | sin) of each token's position from {@code turns} (as
   * {@link Rotary#turns} lays them out); the queries' scale is in the projection already. The
   * same values as {@link #step}'s ops to float rounding, some 15 libtorch calls fewer per layer.
   */
  public NDArray stepOnHost(NDArray h, NDArray x, int b, int t, NDList projection, int[][] positions, float[][] turns,
      HostArray queries, NDArray mask, KvCache cache, int layer) {
    int g = nh / nkv;
    int half = hs / 2;
    int width = (nh + 2 * nkv) * hs;
    int s = cache.length() + t;
    NDArray y = Linear.linear(h, projection.get(0)).head(); // (B*T, heads*hs)
    java.nio.FloatBuffer in = HostArray.view(y);
    java.nio.FloatBuffer q = queries.floats();
    float[] row = new float[width];
    float[] rotated = new float[hs];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < t; i++) {
        in.get((r * t + i) * width, row);
        float[] turn = turns[positions[r][i]]; // (cos | cos | sin | sin), 2 hs
        for (int head = 0; head < nh + nkv; head++) {
          int at = head * hs;
          for (int d = 0; d < half; d++) {
            float x1 = row[at + d];
            float x2 = row[at + half + d];
            rotated[d] = x1 * turn[d] - x2 * turn[hs + d];
            rotated[half + d] = x2 * turn[half + d] + x1 * turn[hs + half + d];
          }
          if (head < nh) {
            q.put((((r * nkv + head / g) * g + head % g) * t + i) * hs, rotated); // (B, nkv, g, T, hs)
          } else {
            cache.putKey(layer, r, head - nh, s - t + i, rotated, 0);
          }
        }
        for (int kv = 0; kv < nkv; kv++) {
          cache.putValue(layer, r, kv, s - t + i, row, (nh + nkv + kv) * hs);
        }
      }
    }
    y.close();
    return attendStep(queries.array(), cache.filled(layer, s, x.getManager()), mask, x, b, t, projection.get(1)); // (B*T, C+1)
  }

  /**
   * The step's attention from the rotated, scaled queries q (B, nkv, g*T, hs) over the filled
   * cache kv (keys (B, nkv, hs, S), values (B, nkv, S, hs), closed here) under mask (B, 1, 1, T, S),
   * or none when nothing is hidden, then x + y wo^T in one product: (B*T, C+1) in x's manager.
   */
  private NDArray attendStep(NDArray q, NDArray[] kv, NDArray mask, NDArray x, long b, long t, NDArray wo) {
    int g = nh / nkv;
    long s = kv[0].getShape().get(3);
    NDArray scores = q.matMul(kv[0]); // (B, nkv, g*T, S)  scaled already
    scores.attach(x.getManager()); // results join their first operand's manager, and q may outlive the step
    kv[0].close();
    NDArray att = free(scores.reshape(b, nkv, g, t, s), scores); // (B, nkv, g, T, S)
    NDArray p = free((mask == null ? att : att.addi(mask)).softmax(4), att).reshape(b, nkv, g * t, s); // (B, nkv, g*T, S)
    NDArray o = free(p.matMul(kv[1]), p, kv[1]); // (B, nkv, g*T, hs)
    NDArray y2 = t == 1
        ? o.reshape(b, nh * hs) // (B, nh*hs)
        : o.reshape(b, nkv, g, t, hs).transpose(0, 3, 1, 2, 4).reshape(b * t, nh * hs); // (B*T, nh*hs)
    o.close();
    return free(Linear.linear(y2, wo, x).head(), y2); // (B*T, C+1)  x + y2 wo^T in one product
  }

  static void close(NDArray... dead) {
    for (NDArray d : dead) {
      d.close();
    }
  }

  /** Closes {@code dead} (arrays and views the caller no longer needs) and returns {@code result}. */
  public static NDArray free(NDArray result, NDArray... dead) {
    for (NDArray d : dead) {
      if (d != result) {
        d.close();
      }
    }
    return result;
  }

  /**
   * The same attention computed group by group ({@link AttentionBlocks}): each group's queries,
   * keys and values are gathered, attended under the group's mask (grouped as by
   * {@link #groupedMask}), and the outputs gathered back into row order.
   */
  public NDArray forward(NDArray x, Rotary.Factors rope, AttentionBlocks.Arrays blocks) {
    NDArray[] qkv = project(x, rope);
    NDList qs = split(take(qkv[0], blocks.queries()), blocks.querySplits()); // groups x (B, Lq, nh, hs)
    NDList ks = split(take(qkv[1], blocks.keys()), blocks.keySplits()); // groups x (B, Lk, nkv, hs)
    NDList vs = split(take(qkv[2], blocks.keys()), blocks.keySplits()); // groups x (B, Lk, nkv, hs)
    NDList outs = new NDList();
    for (int i = 0; i < qs.size(); i++) {
      NDArray kT = ks.get(i).transpose(0, 2, 3, 1); // (B, nkv, hs, Lk)
      NDArray v = vs.get(i).transpose(0, 2, 1, 3); // (B, nkv, Lk, hs)
      outs.add(heads(attend(grouped(qs.get(i)), kT, v, blocks.masks().get(i)))); // (B, Lq, nh*hs)
    }
    NDArray all = outs.size() == 1 ? outs.head() : NDArrays.concat(outs, 1); // (B, sum Lq, nh*hs)
    return output(rows(all, blocks.slot())); // (B, T, C)  back in row order
  }

  private static NDList split(NDArray x, long[] at) {
    return at.length == 0 ? new NDList(x) : x.split(at, 1);
  }

  /** Rows {@code index} (B, L) of x (B, T, n, hs) along T, as (B, L, n, hs). */
  private static NDArray take(NDArray x, NDArray index) {
    Shape s = x.getShape();
    long l = index.getShape().get(1);
    NDArray flat = x.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)); // (B, T, n*hs)
    return rows(flat, index).reshape(s.get(0), l, s.get(2), s.get(3)); // (B, L, n, hs)
  }

  /**
   * Rows {@code index} (B, L) — flat indices b*T + t — of x (B, T, D) as (B, L, D). An embedding
   * lookup is an index_select whose backward adds whole rows (vectorised), far cheaper than
   * gather's element-wise scatter.
   */
  private static NDArray rows(NDArray x, NDArray index) {
    Shape s = x.getShape();
    NDArray table = x.reshape(s.get(0) * s.get(1), s.get(2)); // (B*T, D)
    return Embedding.embedding(index, table, SparseFormat.DENSE).head(); // (B, L, D)
  }

  /** Queries (scaled), keys and values (B, T, n, hs), rotary positions applied. */
  private NDArray[] project(NDArray x, Rotary.Factors rope) {
    long b = x.getShape().get(0);
    long t = x.getShape().get(1);
    NDArray q = rope.queries(Linear.linear(x, wq).head().reshape(b, t, nh, hs)); // (B, T, nh, hs)
    NDArray k = rope.keys(Linear.linear(x, wk).head().reshape(b, t, nkv, hs)); // (B, T, nkv, hs)
    NDArray v = Linear.linear(x, wv).head().reshape(b, t, nkv, hs); // (B, T, nkv, hs)
    return new NDArray[] {q, k, v};
  }

  /** Queries (B, T, nh, hs) grouped by kv head: (B, nkv, g*T, hs), head h using kv head h / g. */
  private NDArray grouped(NDArray q) {
    long b = q.getShape().get(0);
    long t = q.getShape().get(1);
    int g = nh / nkv;
    return q.reshape(b, t, nkv, g, hs).transpose(0, 2, 3, 1, 4).reshape(b, nkv, g * t, hs); // (B, nkv, g*T, hs)
  }

  /**
   * Softmax attention of grouped, scaled queries q (B, nkv, g*T, hs) over keys kT (B, nkv, hs, S)
   * and values v (B, nkv, S, hs) under a grouped additive mask (B, 1, g*T, S). The mask is added in
   * place (the scores' product keeps only its inputs for the backward pass), and the scores die
   * once the softmax has read them, so the next layer's scores reuse their memory while it is hot.
   */
  private static NDArray attend(NDArray q, NDArray kT, NDArray v, NDArray mask) {
    NDArray att = q.matMul(kT).addi(mask); // (B, nkv, g*T, S)
    NDArray p = free(att.softmax(3), att); // (B, nkv, g*T, S)
    return free(p.matMul(v), p); // (B, nkv, g*T, hs)
  }

  /** Grouped outputs y (B, nkv, g*T, hs) back to heads in token order, (B, T, nh*hs). */
  private NDArray heads(NDArray y) {
    long b = y.getShape().get(0);
    int g = nh / nkv;
    long t = y.getShape().get(2) / g;
    return y.reshape(b, nkv, g, t, hs).transpose(0, 3, 1, 2, 4).reshape(b, t, nh * hs); // (B, T, nh*hs)
  }

  /** y (B, T, nh*hs) back to the residual stream. */
  private NDArray output(NDArray y) {
    return Linear.linear(y, wo).head(); // (B, T, C)
  }

  /**
   * A constant in x's (step) manager. Never {@code mul(Number)} on a path that is differentiated:
   * DJL wraps the number in an array over a direct buffer and closes it at once, while autograd
   * keeps it for the backward pass, which then reads freed memory after a garbage collection.
   */
  public static NDArray scalar(NDArray x, double value) {
    return x.getDataType() == DataType.FLOAT64
        ? x.getManager().create(value) // ()
        : x.getManager().create((float) value).toType(x.getDataType(), false); // ()
  }
}
