package io.thinkstream.model;

import java.util.List;

/**
 * How to draw a continuation: temperature 0 is greedy; top-k 0 and top-p 1 switch those filters
 * off. Generation ends at any stop token, when the decoded text contains a stop string, or after
 * {@code maxNewTokens}.
 */
public record SamplingParams(
    double temperature, double topP, int topK, int maxNewTokens, List<Integer> stopTokens, List<String> stopStrings) {
  public SamplingParams {
    if (temperature < 0 || !Double.isFinite(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
    }
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("max new tokens must be >= 1, got " + maxNewTokens);
    }
    stopTokens = List.copyOf(stopTokens);
    stopStrings = List.copyOf(stopStrings);
  }

  /** Greedy decoding up to {@code maxNewTokens}, stopping at {@code eos}. */
  public static SamplingParams greedy(int maxNewTokens, int eos) {
    return new SamplingParams(0, 1, 0, maxNewTokens, List.of(eos), List.of());
  }

  /** Sampling at {@code temperature} with no top-k/top-p filter, stopping at {@code eos}. */
  public static SamplingParams sample(double temperature, int maxNewTokens, int eos) {
    return new SamplingParams(temperature, 1, 0, maxNewTokens, List.of(eos), List.of());
  }

  public SamplingParams withTopP(double p) {
    return new SamplingParams(temperature, p, topK, maxNewTokens, stopTokens, stopStrings);
  }

  public SamplingParams withTopK(int k) {
    return new SamplingParams(temperature, topP, k, maxNewTokens, stopTokens, stopStrings);
  }

  /** Several stop ids, e.g. Llama-3's {@code <|eot_id|>} and {@code <|end_of_text|>}. */
  public SamplingParams withStopTokens(List<Integer> ids) {
    return new SamplingParams(temperature, topP, topK, maxNewTokens, ids, stopStrings);
  }

  public SamplingParams withStopStrings(List<String> stops) {
    return new SamplingParams(temperature, topP, topK, maxNewTokens, stopTokens, stops);
  }
}
