package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.Transformer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoke tests: the quality bar (held-out accuracy) is measured by the demo, not here. */
class SftTest {
  @Test
  void shortRunWritesALoadableCheckpointAndReportsProgress(@TempDir Path dir) {
    SyntheticTokenizer tok = new SyntheticTokenizer(8);
    Sft.Options o = Sft.defaults(dir.resolve("ckpt")).withSteps(6).withHeldOut(4)
        .withConfig(ModelConfig.tiny(tok.vocabSize()));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Sft.Result r = Sft.run(o, new PrintStream(log, true, StandardCharsets.UTF_8));
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("6/6 loss") && text.contains("tok/s") && text.contains("ETA"), text);
    assertTrue(text.contains("held-out greedy accuracy"), text);
    assertEquals(4, r.heldOutProblems());
    assertTrue(Double.isFinite(r.finalLoss()));
    assertEquals(Checkpoints.sha256(dir.resolve("ckpt/model.safetensors")), r.sha256());
    assertTrue(Files.exists(dir.resolve("ckpt/thinkstream.json")));
    Tokenizer loadedTok = Checkpoints.tokenizer(dir.resolve("ckpt"));
    assertEquals(tok.vocabSize(), loadedTok.vocabSize());
    assertEquals(tok.tokenId("<think8>"), loadedTok.tokenId("<think8>"));
    try (Transformer loaded = Checkpoints.load(dir.resolve("ckpt"), Device.cpu())) {
      assertEquals(o.config(), loaded.config());
    }
  }

  @Test
  void packerKeepsExamplesWholeAndTrainsOnlyCompletions() {
    List<Packer.Example> examples = List.of(new Packer.Example(new int[] {1, 5, 6, 7, 2}, 3),
        new Packer.Example(new int[] {1, 8, 9, 2}, 2));
    int[] cursor = {0};
    LmTrainer.Batch b = Packer.pack(examples, cursor, 2, 10, 0);
    assertEquals(List.of(1, 5, 6, 7, 2, 1, 8, 9, 2, 0), java.util.Arrays.stream(b.tokens()[0]).boxed().toList());
    assertEquals(List.of(1, 1, 1, 1, 1, 2, 2, 2, 2, 0), java.util.Arrays.stream(b.segments()[0]).boxed().toList());
    // loss on the tokens after the prompt: 7, 2 of the first example; 9, 2 of the second
    float[] w = b.weights()[0];
    assertEquals(List.of(0f, 0f, 1f, 1f, 0f, 0f, 1f, 1f, 0f, 0f),
        List.of(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9]));
    assertEquals(7, b.targets()[0][2]);
    assertEquals(4, cursor[0]);
  }
}
