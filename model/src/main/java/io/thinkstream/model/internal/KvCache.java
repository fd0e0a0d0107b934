package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;

/**
 * Keys and values of every layer for the positions seen so far, so that sampling one more token
 * costs one token's forward pass instead of the whole sequence's. The arrays are allocated once
 * for the whole generation (prompt + new tokens) and written in place; attention reads only the
 * filled prefix [0, S). Keys are stored transposed, (B, nkv, hs, W), so a query times them gives
 * scores without a transpose per step.
 *
 * <p>A float32 cache on the CPU is also open to Java ({@link #onHost}): the decoding step writes a
 * token's rotated key and its value straight into the cache's memory ({@link #putKey},
 * {@link #putValue}) instead of through libtorch's rotation, split, transpose and index-put ops.
 */
public final class KvCache implements AutoCloseable {
  private final NDManager manager;
  private final NDArray[] keys; // each (B, nkv, hs, W)
  private final NDArray[] values; // each (B, nkv, W, hs)
  private final FloatBuffer[] hostKeys; // each a view of keys[i]'s memory, or null
  private final FloatBuffer[] hostValues; // each a view of values[i]'s memory, or null
  private final int kvHeads;
  private final int headDim;
  private final int width;
  private int length;

  public KvCache(NDManager parent, int layers, int batch, int kvHeads, int headDim, int width, DataType dtype) {
    this.manager = parent.newSubManager();
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
    this.width = width;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    boolean host = HostArray.possible(manager.getDevice(), dtype);
    this.hostKeys = host ? new FloatBuffer[layers] : null;
    this.hostValues = host ? new FloatBuffer[layers] : null;
    for (int i = 0; i < layers; i++) {
      keys[i] = manager.zeros(new Shape(batch, kvHeads, headDim, width), dtype); // (B, nkv, hs, W)
      values[i] = manager.zeros(new Shape(batch, kvHeads, width, headDim), dtype); // (B, nkv, W, hs)
      if (host) {
        hostKeys[i] = HostArray.view(keys[i]);
        hostValues[i] = HostArray.view(values[i]);
      }
    }
  }

  /** Whether Java can write this cache's memory ({@link #putKey}, {@link #putValue}): float32 on the CPU. */
  public boolean onHost() {
    return hostKeys != null;
  }

  /** Layer {@code layer}'s key of kv head h, row b, at column s: hs floats of {@code from} at {@code offset}. */
  public void putKey(int layer, int b, int h, int s, float[] from, int offset) {
    FloatBuffer k = hostKeys[layer];
    int at = (b * kvHeads + h) * headDim * width + s; // (B, nkv, hs, W): one column, stride W
    for (int d = 0; d < headDim; d++) {
      k.put(at + d * width, from[offset + d]);
    }
  }

  /** Layer {@code layer}'s value of kv head h, row b, at column s: hs floats of {@code from} at {@code offset}. */
  public void putValue(int layer, int b, int h, int s, float[] from, int offset) {
    hostValues[layer].put(((b * kvHeads + h) * width + s) * headDim, from, offset, headDim); // (B, nkv, W, hs): one row
  }

  /**
   * Layer {@code layer}'s keys (B, nkv, hs, S) and values (B, nkv, S, hs) over the first {@code s}
   * columns, after {@link #putKey} and {@link #putValue} wrote the new ones: views in {@code into}.
   */
  public NDArray[] filled(int layer, int s, NDManager into) {
    NDArray k = columns(keys[layer], 3, 0, s); // (B, nkv, hs, S)
    NDArray val = columns(values[layer], 2, 0, s); // (B, nkv, S, hs)
    k.attach(into);
    val.attach(into);
    return new NDArray[] {k, val};
  }

  /** Number of cached positions S. */
  public int length() {
    return length;
  }

  /** Positions the cache holds at most (prompt + new tokens). */
  public int width() {
    return width;
  }

  /**
   * Writes layer {@code layer}'s new keys kT (B, nkv, hs, T) and values v (B, nkv, T, hs) at
   * columns [S, S+T) and returns the filled keys (B, nkv, hs, S+T) and values (B, nkv, S+T, hs),
   * views that live in kT's manager. Call {@link #advance} once every layer has appended.
   */
  public NDArray[] append(int layer, NDArray kT, NDArray v) {
    int t = Math.toIntExact(kT.getShape().get(3));
    int s = length + t;
    if (s > width) {
      throw new IllegalStateException("cache of width " + width + " cannot take " + t + " more after " + length);
    }
    write(keys[layer], 3, length, kT); // (B, nkv, hs, W)  columns [S, S+T) filled
    write(values[layer], 2, length, v); // (B, nkv, W, hs)  rows [S, S+T) filled
    NDArray k = columns(keys[layer], 3, 0, s); // (B, nkv, hs, S)
    NDArray val = columns(values[layer], 2, 0, s); // (B, nkv, S, hs)
    k.attach(kT.getManager());
    val.attach(kT.getManager());
    return new NDArray[] {k, val};
  }

  /**
   * The view a[..., from:to, ...] along {@code axis}, in a's manager: one native call (an NDIndex
   * goes through libtorch's advanced indexing, several calls and a temporary index object).
   */
  public static NDArray columns(NDArray a, int axis, long from, long to) {
    return JniUtils.slice((PtNDArray) a, axis, from, to, 1);
  }

  /** a[..., from:from+n, ...] = value along {@code axis}, in place, in one native call; value's shape is the slice's. */
  public static void write(NDArray a, int axis, long from, NDArray value) {
    Shape shape = a.getShape();
    long[] min = new long[shape.dimension()];
    long[] max = shape.getShape().clone();
    long[] step = new long[min.length];
    java.util.Arrays.fill(step, 1);
    min[axis] = from;
    max[axis] = from + value.getShape().get(axis);
    JniUtils.indexSet((PtNDArray) a, (PtNDArray) value, min, max, step);
  }

  /** Marks {@code t} more positions as filled. */
  public void advance(int t) {
    length += t;
  }

  @Override
  public void close() {
    manager.close();
  }
}
