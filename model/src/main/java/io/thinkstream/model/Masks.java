package io.thinkstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Additive attention masks (B, 1, T, S) and position ids built from plain Java arrays: 0 where a
 * query may attend to a key, {@link #HIDDEN} where it may not. A finite large negative number,
 * not -inf, keeps rows with no visible key (padding queries) finite instead of NaN.
 */
public final class Masks {
  public static final float HIDDEN = -1e9f;

  private Masks() {}

  /**
   * Causal attention within segments: query i sees key j when j <= i, both carry the same segment
   * id, and that id is not 0 (0 marks padding). One segment per row is the plain causal case;
   * several are packed sequences.
   */
  public static NDArray causal(NDManager manager, int[][] segments) {
    int b = segments.length;
    int t = segments[0].length;
    float[] data = new float[b * t * t];
    java.util.Arrays.fill(data, HIDDEN);
    for (int r = 0; r < b; r++) {
      int[] seg = segments[r];
      java.util.Set<Integer> ended = new java.util.HashSet<>(); // ids of the runs before the current one
      int start = 0; // first position of the current run of one id
      for (int i = 0; i < t; i++) {
        if (i > 0 && seg[i] != seg[i - 1]) {
          ended.add(seg[i - 1]);
          start = i;
        }
        if (seg[i] == 0) {
          continue;
        }
        int row = (r * t + i) * t;
        java.util.Arrays.fill(data, row + start, row + i + 1, 0f); // keys [start, i] of the current run
        if (ended.contains(seg[i])) { // the id ran before too: those keys are visible as well
          for (int j = 0; j < start; j++) {
            if (seg[j] == seg[i]) {
              data[row + j] = 0f;
            }
          }
        }
      }
    }
    return manager.create(data, new Shape(b, 1, t, t)); // (B, 1, T, T)
  }

  /** Any block mask: {@code allowed[b][i][j]} says whether query i may see key j. */
  public static NDArray of(NDManager manager, boolean[][][] allowed) {
    int b = allowed.length;
    int t = allowed[0].length;
    int s = allowed[0][0].length;
    float[] data = new float[b * t * s];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < t; i++) {
        for (int j = 0; j < s; j++) {
          data[(r * t + i) * s + j] = allowed[r][i][j] ? 0f : HIDDEN;
        }
      }
    }
    return manager.create(data, new Shape(b, 1, t, s)); // (B, 1, T, S)
  }

  /** Positions 0, 1, 2, ... restarting at every new segment; padding gets position 0. */
  public static int[][] positions(int[][] segments) {
    int[][] pos = new int[segments.length][];
    for (int r = 0; r < segments.length; r++) {
      pos[r] = new int[segments[r].length];
      int p = 0;
      for (int i = 0; i < segments[r].length; i++) {
        if (segments[r][i] == 0) {
          pos[r][i] = 0;
          continue;
        }
        p = i > 0 && segments[r][i - 1] == segments[r][i] ? p + 1 : 0;
        pos[r][i] = p;
      }
    }
    return pos;
  }
}
