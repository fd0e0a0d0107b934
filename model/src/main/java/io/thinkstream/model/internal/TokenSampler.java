package io.thinkstream.model.internal;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws one token from a row of logits with temperature, top-k and top-p (nucleus) filtering.
 * Runs in Java on the (V) row so that each request's own seeded RNG decides its tokens: the same
 * seed and the same logits give the same token on every engine and device.
 *
 * <p>Without a filter the draw is a plain multinomial over the row in id order (no sort). With
 * one, candidates are ranked by a primitive key (logit descending, id ascending on ties): top-k
 * selects its k candidates in linear time and sorts only those; top-p alone sorts the row's keys.
 */
public final class TokenSampler {
  private TokenSampler() {}

  /** A drawn token and its log-probability under the unmodified distribution (temperature 1, no filter). */
  public record Pick(int token, float logProb) {}

  /**
   * {@link #pick} and {@link #logProb} in one: at temperature 1 without a filter the draw's
   * softmax terms are the log-probability's, so the row is exponentiated once.
   */
  public static Pick draw(float[] logits, double temperature, int topK, double topP, SplittableRandom rnd) {
    int v = logits.length;
    if (temperature == 1 && (topK == 0 || topK >= v) && topP >= 1) {
      double max = logits[argMax(logits)];
      double[] p = new double[v];
      double total = 0;
      for (int i = 0; i < v; i++) {
        p[i] = Math.exp(logits[i] - max);
        total += p[i];
      }
      int token = scan(p, total, rnd);
      return new Pick(token, (float) (logits[token] - max - Math.log(total)));
    }
    int token = pick(logits, temperature, topK, topP, rnd);
    return new Pick(token, logProb(logits, token));
  }

  public static int pick(float[] logits, double temperature, int topK, double topP, SplittableRandom rnd) {
    if (temperature == 0) {
      return argMax(logits);
    }
    int v = logits.length;
    double max = logits[argMax(logits)];
    if ((topK == 0 || topK >= v) && topP >= 1) {
      return multinomial(logits, max, temperature, rnd);
    }
    int keep = topK > 0 ? Math.min(topK, v) : v;
    long[] keys = new long[v];
    for (int i = 0; i < v; i++) {
      keys[i] = key(logits[i], i);
    }
    if (keep < v) {
      select(keys, keep);
    }
    Arrays.sort(keys, 0, keep);
    double[] p = new double[keep];
    double total = 0;
    for (int i = 0; i < keep; i++) {
      p[i] = Math.exp((logits[id(keys[i])] - max) / temperature);
      total += p[i];
    }
    if (topP < 1) {
      double cum = 0;
      int cut = keep;
      for (int i = 0; i < keep; i++) {
        cum += p[i] / total;
        if (cum >= topP) {
          cut = i + 1;
          break;
        }
      }
      keep = cut;
      total = 0;
      for (int i = 0; i < keep; i++) {
        total += p[i];
      }
    }
    double u = rnd.nextDouble() * total;
    for (int i = 0; i < keep; i++) {
      u -= p[i];
      if (u <= 0) {
        return id(keys[i]);
      }
    }
    return id(keys[keep - 1]);
  }

  /** softmax(logits / temperature) sampled by one uniform draw, scanning ids in order. */
  private static int multinomial(float[] logits, double max, double temperature, SplittableRandom rnd) {
    double[] p = new double[logits.length];
    double total = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp((logits[i] - max) / temperature);
      total += p[i];
    }
    return scan(p, total, rnd);
  }

  /** One uniform draw over unnormalised probabilities p summing to total, scanning ids in order. */
  private static int scan(double[] p, double total, SplittableRandom rnd) {
    double u = rnd.nextDouble() * total;
    for (int i = 0; i < p.length; i++) {
      u -= p[i];
      if (u <= 0) {
        return i;
      }
    }
    for (int i = p.length - 1; ; i--) { // rounding left u > 0: the last token with any mass
      if (p[i] > 0) {
        return i;
      }
    }
  }

  /**
   * A key whose ascending order is logit descending, then id ascending: the float's bits made
   * monotone as a signed int, complemented, in the high half; the id in the low half.
   */
  static long key(float logit, int id) {
    int bits = Float.floatToIntBits(logit == 0f ? 0f : logit); // -0 ranks as 0
    int monotone = bits ^ ((bits >> 31) & 0x7fffffff);
    return ((long) ~monotone << 32) | (id & 0xffffffffL);
  }

  static int id(long key) {
    return (int) key;
  }

  /** Moves the k smallest keys to keys[0, k) in any order (Hoare quickselect, expected linear). */
  static void select(long[] keys, int k) {
    int lo = 0;
    int hi = keys.length - 1;
    while (lo < hi) {
      long pivot = keys[(lo + hi) >>> 1];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (keys[i] < pivot) {
          i++;
        }
        while (keys[j] > pivot) {
          j--;
        }
        if (i <= j) {
          long t = keys[i];
          keys[i++] = keys[j];
          keys[j--] = t;
        }
      }
      if (k - 1 <= j) {
        hi = j;
      } else if (k - 1 >= i) {
        lo = i;
      } else {
        return;
      }
    }
  }

  public static int argMax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** log softmax(logits)[token], in double precision. */
  public static float logProb(float[] logits, int token) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double sum = 0;
    for (float l : logits) {
      sum += Math.exp(l - max);
    }
    return (float) (logits[token] - max - Math.log(sum));
  }
}
