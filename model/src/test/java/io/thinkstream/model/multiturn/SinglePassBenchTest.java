package io.thinkstream.model.multiturn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's plumbing on a toy size: timings are not asserted, the loss agreement and token counts are. */
class SinglePassBenchTest {
  @Test
  void lastLineIsOneJsonObjectWithEveryFigure() throws Exception {
    ModelConfig config = new ModelConfig(new SyntheticTokenizer(8).vocabSize(), 32, 2, 4, 2, 64, 10_000, 512, 1e-5, false);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    SinglePassBench.Result r = SinglePassBench.run(new SinglePassBench.Options(List.of(1, 3), 4, 2, 1.0, 1, config, 5),
        new PrintStream(log, true, StandardCharsets.UTF_8));
    String[] lines = log.toString(StandardCharsets.UTF_8).strip().split("\n");
    JsonNode json = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertEquals("[1,3]", json.get("turns").toString());
    for (String key : List.of("speedup", "token_ratio", "speedup_over_token_ratio", "speedup_dense_attention")) {
      assertEquals(2, json.get(key).size(), key);
    }
    assertTrue(json.get("max_loss_rel_diff").asDouble() <= 1e-5, json.toString());
    SinglePassBench.Point one = r.points().get(0);
    SinglePassBench.Point three = r.points().get(1);
    // One turn: the N-pass reads the turn once, the single pass adds a second answer copy.
    assertTrue(one.tokenRatio() < 1, "1 turn: " + one.tokenRatio());
    // Three turns: the N-pass re-reads the visible history twice over.
    assertTrue(three.tokenRatio() > 1, "3 turns: " + three.tokenRatio());
  }
}
