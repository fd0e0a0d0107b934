package io.thinkstream.evaluator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import io.thinkstream.avro.Evaluation;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.tasks.SyntheticProblems;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A tiny random-weight model on a tiny suite: every field in range, and a version re-evaluates to the same numbers. */
class SuiteRunnerTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

  @Test
  void scoresEveryTagAndReproducesAVersion() {
    SyntheticTokenizer tok = new SyntheticTokenizer(2);
    EvaluatorConfig.Settings settings = EvaluatorConfig.Settings.defaults().withSizes(3, 2, 4, 12);
    Suite suite = Suite.synthetic(SyntheticProblems.Settings.defaults(), 5, 3);
    try (Transformer model = Transformer.init(ModelConfig.tiny(tok.vocabSize()), Transformer.defaultDevice(), DataType.FLOAT32, 1)) {
      SuiteRunner runner = new SuiteRunner(model, tok, settings);
      Evaluation e = runner.run(suite, 7, "abc", CLOCK);

      assertEquals(7, e.getVersion());
      assertEquals("synthetic", e.getSuite());
      assertEquals(3, e.getN());
      assertEquals(2, e.getK());
      assertEquals(4, e.getSamplesPerProblem());
      assertEquals(0.7, e.getTemperature());
      assertEquals("abc", e.getCheckpointSha256());
      assertEquals(List.of("<think1>", "<think2>"), List.copyOf(e.getPerStrategyAccuracy().keySet()));
      for (double v : List.of(e.getGreedyPass1(), e.getMajK(), e.getPassK())) {
        assertTrue(v >= 0 && v <= 1, e.toString());
      }
      e.getPerStrategyMeanTokens().values().forEach(t -> assertTrue(t > 0 && t <= 12, e.toString()));
      assertTrue(e.getDiversity() >= 0 && e.getDiversity() <= 4, e.toString());
      assertEquals(e, runner.run(suite, 7, "abc", CLOCK), "seeds derive from (version, problem, sample)");
    }
  }
}
