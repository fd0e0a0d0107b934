package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Smoke test of the benchmark's plumbing on a toy size; the figures themselves are not asserted. */
class ModelBenchTest {
  @Test
  void lastLineIsOneJsonObject() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    ModelBench.Options o = new ModelBench.Options(ModelConfig.tiny(new SyntheticTokenizer(8).vocabSize()), 2, 4, 8, 2, 16, 1);
    ModelBench.Result r = ModelBench.run(o, new PrintStream(log, true, StandardCharsets.UTF_8));
    String[] lines = log.toString(StandardCharsets.UTF_8).strip().split("\n");
    var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines[lines.length - 1]);
    assertTrue(json.has("kv_speedup") && json.has("train_tokens_per_s") && json.has("sample_tokens_per_s_kv"));
    assertTrue(r.kvSpeedup() > 0);
  }

  @Test
  void medianRunRatioPairsRunsThatRanNextToEachOther() {
    // best-of would say 8 / 4 = 2; the runs side by side say 1, 1.5 and 0.5
    assertEquals(1.0, ModelBench.medianOfRatios(List.of(4.0, 6.0, 8.0), List.of(4.0, 4.0, 16.0)), 1e-12);
    assertEquals(1.25, ModelBench.medianOfRatios(List.of(1.0, 3.0, 2.0, 6.0), List.of(1.0, 2.0, 2.0, 4.0)), 1e-12);
  }
}
