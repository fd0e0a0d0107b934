package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.Problem;
import io.thinkstream.schemas.text.PromptFormat;
import io.thinkstream.tasks.SyntheticProblems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in vocabulary written as an HF {@code tokenizer.json} encodes every text to the same
 * ids through Hugging Face's tokenizers library, so a checkpoint directory is a complete HF model.
 */
class SyntheticTokenizerHfTest {
  @TempDir Path dir;

  @Test
  void theTokenizerJsonEncodesAndDecodesLikeTheBuiltInTokenizer() throws Exception {
    SyntheticTokenizer tok = new SyntheticTokenizer(4);
    Checkpoints.saveTokenizer(tok, dir);
    List<String> texts = new ArrayList<>(List.of("", "Tom", " Tom", "xTom", "Tomx", "Tomé has 3", "  two  spaces",
        "<think3>\n#### 42", "<<4*5=20>> ####7", "Question: Unknownword apples?", "tab\there\r\nend", "<bos>a<eos><pad>",
        "<thinkX> <think9>", "naïve café ☕"));
    SyntheticProblems source = new SyntheticProblems(SyntheticProblems.Settings.defaults(), 5, Clock.systemUTC());
    for (int i = 0; i < 40; i++) {
      Problem p = source.problem(i);
      texts.add(PromptFormat.prompt(p.getQuestion(), PromptFormat.tag(1 + i % 4)));
      p.getSolutions().forEach(s -> texts.add(s.getText()));
    }
    try (HfTokenizer hf = HfTokenizer.load(dir.resolve("tokenizer.json"), tok.vocabSize(), tok.bosId(), tok.eosId(), tok.padId())) {
      for (String text : texts) {
        int[] ours = tok.encode(text);
        if (text.chars().anyMatch(c -> c >= 128)) {
          // a character outside ASCII is <unk> on both sides (one per UTF-16 unit here, one per code point there)
          assertTrue(java.util.Arrays.stream(hf.encode(text)).anyMatch(id -> id == tok.unkId()), text);
          continue;
        }
        assertArrayEquals(ours, hf.encode(text), "'" + text + "'");
        assertEquals(tok.decode(ours, false), hf.decode(ours, false), "'" + text + "'");
      }
    }
    assertTrue(Files.exists(dir.resolve("tokenizer_config.json")));
    assertEquals(tok.vocabSize(), ((SyntheticTokenizer) Checkpoints.tokenizer(dir)).vocabSize());
  }

  @Test
  void aCheckpointWhoseRecordedVocabularyDiffersIsRefused() throws Exception {
    Checkpoints.saveTokenizer(new SyntheticTokenizer(2), dir);
    String json = Files.readString(dir.resolve("tokenizer.json")).replace("\" apples\"", "\" pears\"");
    Files.writeString(dir.resolve("tokenizer.json"), json);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.tokenizer(dir));
    assertTrue(e.getMessage().contains("word lists changed"), e.getMessage());
  }
}
