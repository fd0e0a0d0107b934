package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.thinkstream.model.internal.KvCache;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TransformerTest {
  static final ModelConfig CONFIG = ModelConfig.tiny(50);
  static Transformer model;

  @BeforeAll
  static void init() {
    model = Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT32, 7);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static int[][] randomTokens(int b, int t, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int[][] x = new int[b][t];
    for (int[] row : x) {
      for (int i = 0; i < t; i++) {
        row[i] = rnd.nextInt(CONFIG.vocabSize());
      }
    }
    return x;
  }

  static int[][] ones(int b, int t) {
    int[][] s = new int[b][t];
    for (int[] row : s) {
      java.util.Arrays.fill(row, 1);
    }
    return s;
  }

  static float[] full(NDManager m, int[][] tokens, int[][] segments) {
    NDArray logits = model.forward(m.create(tokens), m.create(Masks.positions(segments)), Masks.causal(m, segments), null);
    return logits.toFloatArray();
  }

  @Test
  void kvCacheLogitsEqualFullRecompute() {
    int b = 2;
    int t = 12;
    int prefix = 5;
    int v = CONFIG.vocabSize();
    int[][] tokens = randomTokens(b, t, 1);
    try (NDManager m = model.newStepManager(); KvCache cache = model.newCache(m, b, t)) {
      float[] expected = full(m, tokens, ones(b, t)); // (B, T, V)
      int[][] first = new int[b][prefix];
      for (int r = 0; r < b; r++) {
        System.arraycopy(tokens[r], 0, first[r], 0, prefix);
      }
      float[] got = model.forward(m.create(first), m.create(Masks.positions(ones(b, prefix))),
          Masks.causal(m, ones(b, prefix)), cache).toFloatArray(); // (B, prefix, V)
      for (int r = 0; r < b; r++) {
        for (int i = 0; i < prefix * v; i++) {
          assertEquals(expected[r * t * v + i], got[r * prefix * v + i], 1e-4);
        }
      }
      for (int i = prefix; i < t; i++) {
        int[][] one = new int[b][1];
        int[][] pos = new int[b][1];
        for (int r = 0; r < b; r++) {
          one[r][0] = tokens[r][i];
          pos[r][0] = i;
        }
        NDArray mask = m.zeros(new ai.djl.ndarray.types.Shape(b, 1, 1, i + 1)); // (B, 1, 1, S): all visible
        float[] step = model.forward(m.create(one), m.create(pos), mask, cache).toFloatArray(); // (B, 1, V)
        for (int r = 0; r < b; r++) {
          for (int k = 0; k < v; k++) {
            assertEquals(expected[(r * t + i) * v + k], step[r * v + k], 1e-4, "row " + r + " pos " + i);
          }
        }
      }
      assertEquals(t, cache.length());
    }
  }

  @Test
  void fusedDecodingStepEqualsFullRecompute() {
    int b = 2;
    int t = 12;
    int prefix = 5;
    int v = CONFIG.vocabSize();
    int[][] tokens = randomTokens(b, t, 2);
    try (NDManager m = model.newStepManager(); Transformer.Decoding d = model.decoding(m, b, t)) {
      float[] expected = full(m, tokens, ones(b, t)); // (B, T, V)
      int[][] first = new int[b][prefix];
      int[][] pos = new int[b][prefix];
      boolean[][] valid = new boolean[b][prefix];
      for (int r = 0; r < b; r++) {
        System.arraycopy(tokens[r], 0, first[r], 0, prefix);
        pos[r] = Masks.positions(ones(1, prefix))[0];
        java.util.Arrays.fill(valid[r], true);
      }
      float[] got = d.prefill(first, pos, valid); // (B, V)
      for (int r = 0; r < b; r++) {
        for (int k = 0; k < v; k++) {
          assertEquals(expected[(r * t + prefix - 1) * v + k], got[r * v + k], 1e-4, "prefill row " + r);
        }
      }
      for (int i = prefix; i < t; i++) {
        int[] one = {tokens[0][i], tokens[1][i]};
        float[] step = d.step(one, new int[] {i, i}); // (B, V)
        for (int r = 0; r < b; r++) {
          for (int k = 0; k < v; k++) {
            assertEquals(expected[(r * t + i) * v + k], step[r * v + k], 1e-4, "row " + r + " pos " + i);
          }
        }
      }
      assertEquals(t, d.length());
    }
  }

  /**
   * The step's rotation and cache writes done in Java (float32 on the CPU) give the logits of the
   * same decoding through libtorch ops, for left-padded prompts of different lengths, in the
   * prefill and in every step after it.
   */
  @Test
  void decodingOnTheHostEqualsDecodingThroughOps() {
    int b = 3;
    int p = 6;
    int steps = 7;
    int width = p + steps;
    int[] lengths = {6, 2, 4};
    int[][] tokens = randomTokens(b, width, 4);
    int[][] first = new int[b][p];
    int[][] pos = new int[b][p];
    boolean[][] valid = new boolean[b][p];
    for (int r = 0; r < b; r++) {
      int offset = p - lengths[r];
      for (int i = 0; i < lengths[r]; i++) {
        first[r][offset + i] = tokens[r][i];
        pos[r][offset + i] = i;
        valid[r][offset + i] = true;
      }
    }
    try (NDManager m = model.newStepManager();
         Transformer.Decoding host = model.decoding(m, b, width);
         Transformer.Decoding ops = model.decodingWithOps(m, b, width)) {
      assertTrue(host.onHost(), "float32 on the CPU decodes on the host");
      assertFalse(ops.onHost());
      assertClose(ops.prefill(first, pos, valid), host.prefill(first, pos, valid), "prefill");
      for (int i = 0; i < steps; i++) {
        int[] next = new int[b];
        int[] at = new int[b];
        for (int r = 0; r < b; r++) {
          next[r] = tokens[r][p + i];
          at[r] = lengths[r] + i;
        }
        assertClose(ops.step(next, at), host.step(next, at), "step " + i);
      }
    }
  }

  private static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-5, what + ", logit " + i);
    }
  }

  @Test
  void tokenHiddenByTheMaskCannotChangeTheOutput() {
    int t = 8;
    int hidden = 2;
    boolean[][][] allowed = new boolean[1][t][t];
    for (int i = 0; i < t; i++) {
      for (int j = 0; j <= i; j++) {
        allowed[0][i][j] = j != hidden || i == hidden;
      }
    }
    int[][] a = randomTokens(1, t, 3);
    int[][] b = {a[0].clone()};
    b[0][hidden] = (a[0][hidden] + 1) % CONFIG.vocabSize();
    try (NDManager m = model.newStepManager()) {
      NDArray pos = m.create(Masks.positions(ones(1, t)));
      NDArray la = model.forward(m.create(a), pos, Masks.of(m, allowed), null); // (1, T, V)
      NDArray lb = model.forward(m.create(b), pos, Masks.of(m, allowed), null); // (1, T, V)
      for (int i = 0; i < t; i++) {
        float diff = la.get(new NDIndex(":, {}", i)).sub(lb.get(new NDIndex(":, {}", i))).abs().max().getFloat();
        if (i == hidden) {
          assertTrue(diff > 1e-6, "the changed token's own output must change");
        } else {
          assertEquals(0f, diff, 1e-6, "position " + i);
        }
      }
    }
  }

  @Test
  void shiftingAllPositionsKeepsLogitsButReorderingChangesThem() {
    int t = 10;
    int[][] tokens = randomTokens(1, t, 5);
    int[][] shifted = new int[1][t];
    int[][] stretched = new int[1][t];
    for (int i = 0; i < t; i++) {
      shifted[0][i] = i + 17;
      stretched[0][i] = 2 * i;
    }
    try (NDManager m = model.newStepManager()) {
      NDArray x = m.create(tokens);
      NDArray mask = Masks.causal(m, ones(1, t));
      float[] base = model.forward(x, m.create(Masks.positions(ones(1, t))), mask, null).toFloatArray();
      float[] moved = model.forward(x, m.create(shifted), mask, null).toFloatArray();
      float[] other = model.forward(x, m.create(stretched), mask, null).toFloatArray();
      float maxDiff = 0;
      for (int i = 0; i < base.length; i++) {
        assertEquals(base[i], moved[i], 1e-4, "RoPE depends only on relative positions");
        maxDiff = Math.max(maxDiff, Math.abs(base[i] - other[i]));
      }
      assertTrue(maxDiff > 1e-4, "different relative positions must change the logits");
    }
  }

  @Test
  void packedSequencesEqualSeparateOnes() {
    int[][] a = randomTokens(1, 5, 11);
    int[][] b = randomTokens(1, 7, 12);
    int[][] packed = new int[1][14];
    int[][] segments = new int[1][14];
    for (int i = 0; i < 5; i++) {
      packed[0][i] = a[0][i];
      segments[0][i] = 1;
    }
    for (int i = 0; i < 7; i++) {
      packed[0][5 + i] = b[0][i];
      segments[0][5 + i] = 2;
    }
    int v = CONFIG.vocabSize();
    try (NDManager m = model.newStepManager()) {
      float[] together = full(m, packed, segments);
      float[] first = full(m, a, ones(1, 5));
      float[] second = full(m, b, ones(1, 7));
      for (int i = 0; i < 5 * v; i++) {
        assertEquals(first[i], together[i], 1e-4);
      }
      for (int i = 0; i < 7 * v; i++) {
        assertEquals(second[i], together[5 * v + i], 1e-4);
      }
    }
  }
}
