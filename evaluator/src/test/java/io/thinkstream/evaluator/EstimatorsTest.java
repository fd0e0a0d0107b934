package io.thinkstream.evaluator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The per-problem scores against values worked out by hand. */
class EstimatorsTest {
  @Test
  void passAtKMatchesTheBinomialFormula() {
    // 1 - C(3,2)/C(5,2) = 1 - 3/10
    assertEquals(0.7, Estimators.passAtK(5, 2, 2), 1e-12);
    // 1 - C(7,5)/C(10,5) = 1 - 21/252
    assertEquals(1 - 21.0 / 252, Estimators.passAtK(10, 3, 5), 1e-12);
    // k = 1 is the fraction correct
    assertEquals(0.25, Estimators.passAtK(4, 1, 1), 1e-12);
    assertEquals(0.0, Estimators.passAtK(10, 0, 3), 0);
    // fewer wrong samples than k: every k-subset holds a correct one
    assertEquals(1.0, Estimators.passAtK(4, 3, 2), 0);
    assertEquals(1.0, Estimators.passAtK(3, 3, 3), 0);
  }

  /** The product form never builds C(n, k): n = 2000, k = 100 stays finite and exact enough. */
  @Test
  void passAtKIsStableForLargeN() {
    assertEquals(0.001, Estimators.passAtK(1000, 1, 1), 1e-12);
    // 1 - C(1999,100)/C(2000,100) = 1 - (2000-100)/2000 = 0.05
    assertEquals(0.05, Estimators.passAtK(2000, 1, 100), 1e-12);
    double p = Estimators.passAtK(2000, 50, 100);
    assertTrue(p > 0.9 && p < 1, "pass@100 with 50/2000 correct: " + p);
  }

  @Test
  void passAtKRejectsFewerSamplesThanK() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Estimators.passAtK(3, 1, 4));
    assertTrue(e.getMessage().contains("n=3") && e.getMessage().contains("k=4"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Estimators.passAtK(3, 4, 1));
    assertThrows(IllegalArgumentException.class, () -> Estimators.passAtK(3, 1, 0));
  }

  @Test
  void theEvaluatorRefusesFewerSamplesThanK() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> new EvaluatorConfig(Map.of(EvaluatorConfig.K, "8", EvaluatorConfig.SAMPLES, "4")).settings());
    assertTrue(e.getMessage().contains("evaluator.samples=4 < evaluator.k=8"), e.getMessage());
  }

  @Test
  void majorityVoteReadsAnswersWithTheOneExtractor() {
    assertTrue(Estimators.majorityCorrect(List.of("2+3=5\n#### 5", "#### 3", "so the answer is 5.", "no idea"), "5"));
    assertFalse(Estimators.majorityCorrect(List.of("#### 3", "#### 3", "#### 5"), "5"));
    assertTrue(Estimators.majorityCorrect(List.of("#### 1,200", "The answer is 1200."), "1200"));
    // a tie goes to the answer reached first
    assertFalse(Estimators.majorityCorrect(List.of("#### 3", "#### 5"), "5"));
    assertTrue(Estimators.majorityCorrect(List.of("#### 5", "#### 3"), "5"));
    assertFalse(Estimators.majorityCorrect(List.of("no number at all"), "5"));
  }

  @Test
  void distinctPathsFoldAnnotationsCaseAndSpacing() {
    List<String> a = List.of("48/2=<<48/2=24>>24", "24+1=25");
    List<String> sameAfterNormalising = List.of("48/2=24", "24 +  1=25");
    List<String> otherOrder = List.of("24+1=25", "48/2=24");
    assertEquals(2, Estimators.distinctPaths(List.of(a, sameAfterNormalising, otherOrder)));
    assertEquals(1, Estimators.distinctPaths(List.of(List.of("Half Is 24"), List.of("half is 24"))));
    assertEquals(0, Estimators.distinctPaths(List.of()));
  }
}
