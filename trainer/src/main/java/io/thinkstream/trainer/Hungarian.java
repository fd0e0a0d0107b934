package io.thinkstream.trainer;

import java.util.Arrays;

/**
 * Minimum-cost assignment (the Hungarian method, Kuhn–Munkres with potentials, O(n²m)): SSFT
 * matches strategy tags to correct traces by the cost C[i][j] = mean next-token loss of trace j
 * under tag i. A rectangular matrix assigns min(rows, cols) pairs; each row and column at most once.
 */
public final class Hungarian {
  private Hungarian() {}

  /**
   * {@code match[i]} = the column assigned to row i, or -1 when there are more rows than columns
   * and row i is left out. The total cost is the smallest over all such assignments.
   */
  public static int[] solve(double[][] cost) {
    int rows = cost.length;
    int cols = rows == 0 ? 0 : cost[0].length;
    if (rows == 0 || cols == 0) {
      int[] none = new int[rows];
      Arrays.fill(none, -1);
      return none;
    }
    for (double[] row : cost) {
      if (row.length != cols) {
        throw new IllegalArgumentException("cost matrix rows differ in length: " + row.length + " vs " + cols);
      }
      for (double c : row) {
        if (!Double.isFinite(c)) {
          throw new IllegalArgumentException("cost matrix holds a non-finite cost " + c);
        }
      }
    }
    boolean transposed = rows > cols; // the method below needs rows <= cols
    double[][] a = transposed ? transpose(cost) : cost;
    int n = a.length;
    int m = a[0].length;
    // 1-based arrays as in the classic formulation; p[j] = row matched to column j (0 = none).
    double[] u = new double[n + 1];
    double[] v = new double[m + 1];
    int[] p = new int[m + 1];
    int[] way = new int[m + 1];
    for (int i = 1; i <= n; i++) {
      p[0] = i;
      int j0 = 0;
      double[] minv = new double[m + 1];
      Arrays.fill(minv, Double.POSITIVE_INFINITY);
      boolean[] used = new boolean[m + 1];
      do {
        used[j0] = true;
        int i0 = p[j0];
        double delta = Double.POSITIVE_INFINITY;
        int j1 = 0;
        for (int j = 1; j <= m; j++) {
          if (!used[j]) {
            double cur = a[i0 - 1][j - 1] - u[i0] - v[j];
            if (cur < minv[j]) {
              minv[j] = cur;
              way[j] = j0;
            }
            if (minv[j] < delta) {
              delta = minv[j];
              j1 = j;
            }
          }
        }
        for (int j = 0; j <= m; j++) {
          if (used[j]) {
            u[p[j]] += delta;
            v[j] -= delta;
          } else {
            minv[j] -= delta;
          }
        }
        j0 = j1;
      } while (p[j0] != 0);
      do {
        int j1 = way[j0];
        p[j0] = p[j1];
        j0 = j1;
      } while (j0 != 0);
    }
    int[] match = new int[rows];
    Arrays.fill(match, -1);
    for (int j = 1; j <= m; j++) {
      if (p[j] != 0) {
        if (transposed) {
          match[j - 1] = p[j] - 1;
        } else {
          match[p[j] - 1] = j - 1;
        }
      }
    }
    return match;
  }

  /** The summed cost of {@code match} (rows matched to -1 cost nothing). */
  public static double cost(double[][] cost, int[] match) {
    double total = 0;
    for (int i = 0; i < match.length; i++) {
      if (match[i] >= 0) {
        total += cost[i][match[i]];
      }
    }
    return total;
  }

  private static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        t[j][i] = a[i][j];
      }
    }
    return t;
  }
}
