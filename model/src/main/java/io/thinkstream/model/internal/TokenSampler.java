package io.thinkstream.model.internal;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws one token from a row of logits with temperature, top-k and top-p (nucleus) filtering.
 * Runs in Java on the (V) row so that each request's own seeded RNG decides its tokens: the same
 * seed and the same logits give the same token on every engine and device.
 */
public final class TokenSampler {
  private TokenSampler() {}

  public static int pick(float[] logits, double temperature, int topK, double topP, SplittableRandom rnd) {
    if (temperature == 0) {
      return argMax(logits);
    }
    int v = logits.length;
    Integer[] order = new Integer[v];
    for (int i = 0; i < v; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
    int keep = topK > 0 ? Math.min(topK, v) : v;
    double max = logits[order[0]];
    double[] p = new double[keep];
    double total = 0;
    for (int i = 0; i < keep; i++) {
      p[i] = Math.exp((logits[order[i]] - max) / temperature);
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
        return order[i];
      }
    }
    return order[keep - 1];
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
