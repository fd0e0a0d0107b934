package io.thinkstream.model.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenSamplerTest {
  static final int DRAWS = 40_000;

  static double[] frequencies(float[] logits, double temperature, int topK, double topP, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] f = new double[logits.length];
    for (int i = 0; i < DRAWS; i++) {
      f[TokenSampler.pick(logits, temperature, topK, topP, rnd)] += 1.0 / DRAWS;
    }
    return f;
  }

  static double[] softmax(float[] logits, double temperature, boolean[] keep) {
    double[] p = new double[logits.length];
    double total = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = keep[i] ? Math.exp(logits[i] / temperature) : 0;
      total += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= total;
    }
    return p;
  }

  static void assertClose(double[] expected, double[] got) {
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], got[i], 0.012, "token " + i + ": expected " + Arrays.toString(expected) + ", got " + Arrays.toString(got));
      if (expected[i] == 0) {
        assertEquals(0, got[i], "token " + i + " is filtered out");
      }
    }
  }

  @Test
  void plainMultinomialMatchesSoftmaxFrequencies() {
    float[] logits = {0.5f, -1f, 2f, 0f, 1.2f, -3f};
    boolean[] all = new boolean[logits.length];
    Arrays.fill(all, true);
    assertClose(softmax(logits, 1, all), frequencies(logits, 1, 0, 1, 1));
    assertClose(softmax(logits, 0.7, all), frequencies(logits, 0.7, 0, 1, 2));
  }

  @Test
  void topKKeepsTheKLargestInProportion() {
    float[] logits = {2f, 1f, 0f, 3f, -1f, 2.5f};
    boolean[] keep = {false, false, false, true, false, true};
    assertClose(softmax(logits, 1, keep), frequencies(logits, 1, 2, 1, 3));
  }

  @Test
  void topPKeepsTheSmallestPrefixReachingP() {
    // probabilities 0.5, 0.3, 0.15, 0.05 (ids 2, 0, 3, 1): the first two reach 0.7
    float[] logits = {(float) Math.log(0.3), (float) Math.log(0.05), (float) Math.log(0.5), (float) Math.log(0.15)};
    boolean[] keep = {true, false, true, false};
    assertClose(softmax(logits, 1, keep), frequencies(logits, 1, 0, 0.7, 4));
    boolean[] three = {true, false, true, true};
    assertClose(softmax(logits, 1, three), frequencies(logits, 1, 3, 0.85, 5)); // top-k 3, then top-p 0.85 of those
  }

  @Test
  void sameSeedSameTokensAndTiesRankByIdAndGreedyIsArgMax() {
    float[] logits = new float[1000];
    SplittableRandom init = new SplittableRandom(9);
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) init.nextGaussian();
    }
    for (int[] filter : new int[][] {{0, 100}, {50, 100}, {0, 90}, {20, 95}}) {
      int[] a = draws(logits, filter[0], filter[1] / 100.0, 77);
      int[] b = draws(logits, filter[0], filter[1] / 100.0, 77);
      assertArrayEquals(a, b);
    }
    float[] tied = {1f, 3f, 3f, 0f};
    assertEquals(1, TokenSampler.pick(tied, 1, 1, 1, new SplittableRandom(1)), "top-1 of a tie is the lower id");
    assertEquals(2, TokenSampler.pick(new float[] {0f, -1f, 4f}, 0, 0, 1, new SplittableRandom(1)));
  }

  static int[] draws(float[] logits, int topK, double topP, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int[] out = new int[200];
    for (int i = 0; i < out.length; i++) {
      out[i] = TokenSampler.pick(logits, 0.8, topK, topP, rnd);
    }
    return out;
  }

  @Test
  void selectionPutsTheKSmallestKeysFirst() {
    SplittableRandom rnd = new SplittableRandom(4);
    for (int trial = 0; trial < 200; trial++) {
      int v = 1 + rnd.nextInt(300);
      int k = 1 + rnd.nextInt(v);
      long[] keys = new long[v];
      for (int i = 0; i < v; i++) {
        keys[i] = TokenSampler.key((float) (rnd.nextInt(7) - 3) * 0.5f, i); // many ties
      }
      long[] sorted = keys.clone();
      Arrays.sort(sorted);
      TokenSampler.select(keys, k);
      long[] head = Arrays.copyOf(keys, k);
      Arrays.sort(head);
      assertArrayEquals(Arrays.copyOf(sorted, k), head, "v " + v + " k " + k);
    }
    assertTrue(TokenSampler.key(2f, 5) < TokenSampler.key(1f, 0), "larger logit first");
    assertTrue(TokenSampler.key(-1f, 0) < TokenSampler.key(-2f, 0), "negative logits keep their order");
    assertTrue(TokenSampler.key(1f, 3) < TokenSampler.key(1f, 4), "ties by id");
  }

  @Test
  void drawEqualsPickThenLogProb() {
    float[] logits = {0.5f, -1f, 2f, 0f, 1.2f, -3f};
    for (double[] f : new double[][] {{1, 0, 1}, {0.7, 0, 1}, {1, 3, 1}, {1, 0, 0.8}, {0, 0, 1}}) {
      SplittableRandom a = new SplittableRandom(8);
      SplittableRandom b = new SplittableRandom(8);
      for (int i = 0; i < 50; i++) {
        TokenSampler.Pick p = TokenSampler.draw(logits, f[0], (int) f[1], f[2], a);
        int token = TokenSampler.pick(logits, f[0], (int) f[1], f[2], b);
        assertEquals(token, p.token());
        assertEquals(TokenSampler.logProb(logits, token), p.logProb());
      }
    }
  }
}
