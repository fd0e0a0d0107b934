package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values of every layer for the positions seen so far, so that sampling one more token
 * costs one token's forward pass instead of the whole sequence's. Owns its arrays in its own
 * manager; each append replaces the layer's arrays and frees the old ones.
 */
public final class KvCache implements AutoCloseable {
  private final NDManager manager;
  private final NDArray[] keys; // each (B, nkv, S, hs)
  private final NDArray[] values; // each (B, nkv, S, hs)

  public KvCache(NDManager parent, int layers) {
    this.manager = parent.newSubManager();
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
  }

  /** Number of cached positions S. */
  public long length() {
    return keys[0] == null ? 0 : keys[0].getShape().get(2);
  }

  /** Appends k, v (B, nkv, T, hs) to layer {@code layer}; returns the full keys and values (B, nkv, S+T, hs). */
  public NDArray[] append(int layer, NDArray k, NDArray v) {
    keys[layer] = join(keys[layer], k);
    values[layer] = join(values[layer], v);
    return new NDArray[] {keys[layer], values[layer]};
  }

  private NDArray join(NDArray old, NDArray add) {
    if (old == null) {
      NDArray copy = add.duplicate(); // (B, nkv, T, hs)
      copy.attach(manager);
      return copy;
    }
    NDArray joined = old.concat(add, 2); // (B, nkv, S+T, hs), lives in old's manager: this cache's
    old.close();
    return joined;
  }

  @Override
  public void close() {
    manager.close();
  }
}
