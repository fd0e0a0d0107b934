package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HungarianTest {
  @Test
  void aSmallMatrixByHand() {
    double[][] c = {{4, 1, 3}, {2, 0, 5}, {3, 2, 2}};
    // 1 + 2 + 2 = 5 is the cheapest: row 0 -> col 1, row 1 -> col 0, row 2 -> col 2
    assertArrayEquals(new int[] {1, 0, 2}, Hungarian.solve(c));
    assertEquals(5, Hungarian.cost(c, Hungarian.solve(c)));
  }

  @Test
  void equalsBruteForceOnRandomMatricesUpToSevenBySeven() {
    SplittableRandom rnd = new SplittableRandom(42);
    for (int trial = 0; trial < 300; trial++) {
      int rows = 1 + rnd.nextInt(7);
      int cols = 1 + rnd.nextInt(7);
      double[][] c = new double[rows][cols];
      for (double[] row : c) {
        for (int j = 0; j < cols; j++) {
          row[j] = trial % 3 == 0 ? rnd.nextInt(4) : rnd.nextDouble() * 10 - 3; // ties too
        }
      }
      int[] match = Hungarian.solve(c);
      Set<Integer> used = new HashSet<>();
      int matched = 0;
      for (int m : match) {
        if (m >= 0) {
          assertTrue(used.add(m), "column used twice");
          matched++;
        }
      }
      assertEquals(Math.min(rows, cols), matched);
      assertEquals(bruteForce(c), Hungarian.cost(c, match), 1e-9, rows + "x" + cols + " trial " + trial);
    }
  }

  /** The cheapest assignment of min(rows, cols) pairs by trying every injection of the smaller side. */
  static double bruteForce(double[][] c) {
    int rows = c.length;
    int cols = c[0].length;
    return rows <= cols ? best(c, 0, new boolean[cols], false) : best(transpose(c), 0, new boolean[rows], false);
  }

  private static double best(double[][] c, int row, boolean[] used, boolean unused) {
    if (row == c.length) {
      return 0;
    }
    double best = Double.POSITIVE_INFINITY;
    for (int j = 0; j < used.length; j++) {
      if (!used[j]) {
        used[j] = true;
        best = Math.min(best, c[row][j] + best(c, row + 1, used, unused));
        used[j] = false;
      }
    }
    return best;
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
