package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MasksTest {
  /** The run-filling mask equals its definition, ids that come back after another run and padding included. */
  @Test
  void causalMaskEqualsItsDefinition() {
    SplittableRandom rnd = new SplittableRandom(2);
    int b = 6;
    int t = 23;
    int[][] segments = new int[b][t];
    for (int r = 0; r < b; r++) {
      int id = rnd.nextInt(3);
      for (int i = 0; i < t; i++) {
        if (rnd.nextInt(4) == 0) {
          id = rnd.nextInt(3); // 0 is padding; an id may come back after another
        }
        segments[r][i] = id;
      }
    }
    try (NDManager m = NDManager.newBaseManager()) {
      float[] mask = Masks.causal(m, segments).toFloatArray(); // (B, 1, T, T)
      for (int r = 0; r < b; r++) {
        for (int i = 0; i < t; i++) {
          for (int j = 0; j < t; j++) {
            boolean visible = j <= i && segments[r][j] != 0 && segments[r][j] == segments[r][i];
            assertEquals(visible ? 0f : Masks.HIDDEN, mask[(r * t + i) * t + j], "row " + r + " query " + i + " key " + j);
          }
        }
      }
    }
  }
}
