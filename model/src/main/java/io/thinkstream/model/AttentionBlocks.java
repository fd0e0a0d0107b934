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

  /**
   * The groups as arrays in {@code manager}, built once per forward pass and shared by every layer.
   * All groups' query (and key) indices sit end to end in one array, so a layer gathers queries,
   * keys and values once each and splits them; one gather and one split differentiate far more
   * cheaply than a gather per group (each of which scatters back into a full-size gradient).
   */
  public Arrays toArrays(NDManager manager, DataType dtype) {
    List<NDArray> masks = new ArrayList<>();
    int[][] queries = joined(groups.stream().map(Group::queries).toList());
    int[][] keys = joined(groups.stream().map(Group::keys).toList());
    for (Group g : groups) {
      NDArray mask = Masks.of(manager, g.visible()); // (B, 1, Lq, Lk)
      masks.add(mask.getDataType() == dtype ? mask : mask.toType(dtype, false));
    }
    int width = slot[0].length;
    int querySlots = queries[0].length;
    return new Arrays(index(manager, queries, width), splits(groups.stream().mapToInt(Group::queryCount).toArray()),
        index(manager, keys, width), splits(groups.stream().mapToInt(Group::keyCount).toArray()), masks,
        index(manager, slot, querySlots)); // queries (B, sum Lq), keys (B, sum Lk), slot (B, T)
  }

  /**
   * Arrays for one forward pass, indices flattened over the batch (row b's index i is b * width + i):
   * every group's query indices end to end (B, sum Lq) with the split
   * points between groups, the same for keys (B, sum Lk), each group's additive mask (B, 1, Lq, Lk),
   * and the slot of every position (B, T).
   */
  public record Arrays(NDArray queries, long[] querySplits, NDArray keys, long[] keySplits, List<NDArray> masks,
      NDArray slot) {}

  private static int[][] joined(List<int[][]> parts) {
    int b = parts.get(0).length;
    int[][] out = new int[b][];
    for (int r = 0; r < b; r++) {
      int row = r;
      out[r] = parts.stream().flatMapToInt(p -> java.util.Arrays.stream(p[row])).toArray();
    }
    return out;
  }

  /** Split points between consecutive lengths: {3, 4, 2} gives {3, 7}. */
  private static long[] splits(int[] lengths) {
    long[] out = new long[lengths.length - 1];
    long at = 0;
    for (int i = 0; i + 1 < lengths.length; i++) {
      at += lengths[i];
      out[i] = at;
    }
    return out;
  }

  /** {@code idx} (B, L) as int64 flat indices into a (B * rowWidth)-row table. */
  private static NDArray index(NDManager manager, int[][] idx, int rowWidth) {
    int b = idx.length;
    int n = idx[0].length;
    long[] flat = new long[b * n];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < n; i++) {
        flat[r * n + i] = (long) r * rowWidth + Math.max(0, idx[r][i]); // padding takes position 0; its mask hides it
      }
    }
    return manager.create(flat, new Shape(b, n)); // (B, L)
  }
}
