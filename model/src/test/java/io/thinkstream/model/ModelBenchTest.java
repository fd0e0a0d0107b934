package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
}
