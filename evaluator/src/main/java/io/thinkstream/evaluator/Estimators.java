package io.thinkstream.evaluator;

import io.thinkstream.schemas.text.FinalAnswer;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The per-problem scores an evaluation averages: pass@k (the unbiased estimator of Chen et al.,
 * "Evaluating Large Language Models Trained on Code", 2021), majority vote and the number of
 * distinct solution paths. Every answer is read by the one extractor, {@link FinalAnswer}.
 */
public final class Estimators {
  private static final Pattern CALCULATOR = Pattern.compile("<<[^>]*>>");
  private static final Pattern SPACES = Pattern.compile("\\s+");

  private Estimators() {}

  /**
   * pass@k = 1 − C(n−c, k) / C(n, k): the chance that at least one of k samples drawn without
   * replacement from n samples, c of them correct, is correct. Computed as the product
   * ∏_{i=n−c+1..n} (1 − k/i), which never forms the (huge) binomials.
   */
  public static double passAtK(int n, int c, int k) {
    if (k < 1) {
      throw new IllegalArgumentException("pass@k needs k >= 1, got k=" + k);
    }
    if (n < k) {
      throw new IllegalArgumentException("pass@k needs at least k samples per problem, got n=" + n + " < k=" + k);
    }
    if (c < 0 || c > n) {
      throw new IllegalArgumentException("correct count must be in [0, n], got c=" + c + " for n=" + n);
    }
    if (n - c < k) {
      return 1.0; // every k-subset holds a correct sample
    }
    double allWrong = 1.0;
    for (int i = n - c + 1; i <= n; i++) {
      allWrong *= 1.0 - (double) k / i;
    }
    return 1.0 - allWrong;
  }

  /**
   * Whether the most frequent final answer among {@code completions} matches {@code gold}
   * (maj@k over the completions given). Completions without a number do not vote; a tie goes to
   * the answer reached first, so the vote does not depend on hash order.
   */
  public static boolean majorityCorrect(List<String> completions, String gold) {
    Map<BigDecimal, Integer> votes = new LinkedHashMap<>();
    Map<BigDecimal, FinalAnswer> first = new LinkedHashMap<>();
    for (String completion : completions) {
      FinalAnswer answer = FinalAnswer.extract(completion);
      Optional<BigDecimal> value = answer.value();
      if (value.isPresent()) {
        BigDecimal key = value.get().setScale(6, RoundingMode.HALF_UP);
        votes.merge(key, 1, Integer::sum);
        first.putIfAbsent(key, answer);
      }
    }
    BigDecimal best = null;
    for (Map.Entry<BigDecimal, Integer> e : votes.entrySet()) {
      if (best == null || e.getValue() > votes.get(best)) {
        best = e.getKey();
      }
    }
    return best != null && first.get(best).matches(gold);
  }

  /**
   * Distinct solution paths among correct completions: completions whose reasoning steps,
   * normalised (calculator annotations, case and all whitespace removed), are the same sequence
   * count once. A wrong completion is no solution path, so it adds nothing.
   */
  public static int distinctPaths(List<List<String>> correctSteps) {
    Set<List<String>> paths = new HashSet<>();
    for (List<String> steps : correctSteps) {
      paths.add(steps.stream().map(Estimators::normaliseStep).filter(s -> !s.isEmpty()).toList());
    }
    return paths.size();
  }

  static String normaliseStep(String step) {
    String s = CALCULATOR.matcher(step).replaceAll("");
    return SPACES.matcher(s.toLowerCase(Locale.ROOT)).replaceAll("");
  }
}
