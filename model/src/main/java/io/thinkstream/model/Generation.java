package io.thinkstream.model;

/**
 * One continuation: its tokens (including a final stop token), the policy's log-probability of
 * each token under the unmodified distribution (temperature 1, no filtering — what DPO, LaTRO and
 * staleness checks need), the decoded text (specials and any stop string left out) and why it ended.
 */
public record Generation(int[] tokens, float[] logProbs, String text, Finish finish) {
  public enum Finish { STOP_TOKEN, STOP_STRING, LENGTH }

  public double sumLogProb() {
    double s = 0;
    for (float lp : logProbs) {
      s += lp;
    }
    return s;
  }
}
