package io.thinkstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * Block-sparse attention for rows whose mask is mostly empty: the queries are split into groups,
 * and each group attends only to the keys that some query of the group may see, under the group's
 * own small mask. Work that a dense mask would throw away (whole blocks of hidden keys) is never
 * done, and the result equals dense attention under the full mask.
 *
 * <p>{@code queries[b][i]} and {@code keys[b][j]} of a group are row positions; -1 pads a row
 * with fewer of them. {@code slot[b][p]} says where position p's output sits among all groups'
 * query slots laid end to end (positions in no group — padding — may point anywhere).
 */
public record AttentionBlocks(List<Group> groups, int[][] slot) {
  public record Group(int[][] queries, int[][] keys, boolean[][][] visible) {
    public int queryCount() {
      return queries[0].length;
    }

    public int keyCount() {
      return keys[0].length;
    }
  }

  public AttentionBlocks {
    groups = List.copyOf(groups);
  }

  /** Query-key pairs computed, over the batch: the attention work, against B·T·T dense. */
  public long pairs() {
    return groups.stream().mapToLong(g -> (long) g.queries().length * g.queryCount() * g.keyCount()).sum();
  }

  /** The groups as arrays in {@code manager}, built once per forward pass and shared by every layer. */
  public Arrays toArrays(NDManager manager, DataType dtype) {
    List<NDArray> q = new ArrayList<>();
    List<NDArray> k = new ArrayList<>();
    List<NDArray> m = new ArrayList<>();
    for (Group g : groups) {
      q.add(index(manager, g.queries())); // (B, Lq)
      k.add(index(manager, g.keys())); // (B, Lk)
      NDArray mask = Masks.of(manager, g.visible()); // (B, 1, Lq, Lk)
      m.add(mask.getDataType() == dtype ? mask : mask.toType(dtype, false));
    }
    return new Arrays(q, k, m, index(manager, slot)); // slot: (B, T)
  }

  /** Per group: query and key indices (B, L) as int64, additive masks (B, 1, Lq, Lk); slot (B, T). */
  public record Arrays(List<NDArray> queries, List<NDArray> keys, List<NDArray> masks, NDArray slot) {}

  private static NDArray index(NDManager manager, int[][] idx) {
    int b = idx.length;
    int n = idx[0].length;
    long[] flat = new long[b * n];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < n; i++) {
        flat[r * n + i] = Math.max(0, idx[r][i]); // padding gathers position 0; its mask hides it
      }
    }
    return manager.create(flat, new Shape(b, n)); // (B, L)
  }
}
