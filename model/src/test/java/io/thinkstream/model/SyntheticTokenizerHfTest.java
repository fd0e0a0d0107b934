package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * ids through Hugging Face's tokenizers library, so a checkpoint directory is a complete HF model;
 * and a checkpoint's tokenizer is the vocabulary that file records, not today's word lists.
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
    Tokenizer loaded = Checkpoints.tokenizer(dir);
    assertEquals(tok.vocabSize(), loaded.vocabSize());
    assertEquals(List.of(tok.bosId(), tok.eosId(), tok.padId(), tok.tokenId("<think4>")),
        List.of(loaded.bosId(), loaded.eosId(), loaded.padId(), loaded.tokenId("<think4>")));
    for (String text : texts) {
      assertArrayEquals(tok.encode(text), loaded.encode(text), "'" + text + "'");
    }
  }

  /**
   * A checkpoint written when the word lists were different (here: "pears" where today's lists say
   * "apples", and Tom and Mia with each other's ids) loads with the vocabulary it recorded, never
   * with today's: same ids as when it was written, other ids than a fresh tokenizer's.
   */
  @Test
  void aCheckpointKeepsTheVocabularyItWasWrittenWith() throws Exception {
    SyntheticTokenizer today = new SyntheticTokenizer(2);
    ObjectNode json = today.toHfJson();
    ObjectNode vocab = (ObjectNode) json.path("model").path("vocab");
    ObjectNode older = JsonNodeFactory.instance.objectNode();
    vocab.properties().forEach(e -> older.set(switch (e.getKey()) {
      case "apples" -> "pears";
      case " apples" -> " pears";
      case " Tom" -> " Mia";
      case " Mia" -> " Tom";
      default -> e.getKey();
    }, e.getValue()));
    ((ObjectNode) json.path("model")).set("vocab", older);
    SyntheticTokenizer then = SyntheticTokenizer.fromHfJson(json);
    Checkpoints.saveTokenizer(then, dir);

    Tokenizer loaded = Checkpoints.tokenizer(dir);
    String text = "Mia has 3 pears. She gives away 1 pears to Tom and Mia.";
    assertArrayEquals(then.encode(text), loaded.encode(text));
    int[] fromFile = {id(older, "Mia"), id(older, " has"), id(older, " "), id(older, "3"), id(older, " pears")};
    assertArrayEquals(fromFile, java.util.Arrays.copyOf(loaded.encode(text), 5), "the ids the file records");
    assertNotEquals(java.util.Arrays.toString(today.encode(text)), java.util.Arrays.toString(loaded.encode(text)));
    assertEquals(today.encode(" Tom")[0], loaded.encode(" Mia")[0]);
    assertEquals(text, loaded.decode(loaded.encode(text), false));
    assertEquals(older, new ObjectMapper().readTree(dir.resolve(Checkpoints.TOKENIZER).toFile()).path("model").path("vocab"));
    assertEquals(older, ((SyntheticTokenizer) loaded).toHfJson().path("model").path("vocab"), "written again unchanged");
  }

  @Test
  void aBuiltInCheckpointWithoutItsRecordedVocabularyIsRefused() throws Exception {
    Checkpoints.saveTokenizer(new SyntheticTokenizer(2), dir);
    Files.delete(dir.resolve(Checkpoints.TOKENIZER));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.tokenizer(dir));
    assertTrue(e.getMessage().contains("no tokenizer.json recording its vocabulary"), e.getMessage());
  }

  @Test
  void aNoteThatDisagreesWithTheRecordedTagsIsRefused() throws Exception {
    Checkpoints.saveTokenizer(new SyntheticTokenizer(2), dir);
    Files.writeString(dir.resolve(Checkpoints.TOKENIZER_NOTE), "{\"tokenizer\": \"synthetic\", \"strategy_tags\": 3}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.tokenizer(dir));
    assertTrue(e.getMessage().contains("says 3 strategy tags") && e.getMessage().contains("has 2"), e.getMessage());
  }

  @Test
  void aFileThatIsNotTheBuiltInFormatIsRefusedWithTheReason() {
    ObjectNode json = new SyntheticTokenizer(2).toHfJson();
    ((ObjectNode) json.path("model")).put("type", "BPE");
    IllegalArgumentException bpe = assertThrows(IllegalArgumentException.class, () -> SyntheticTokenizer.fromHfJson(json));
    assertTrue(bpe.getMessage().contains("'BPE'"), bpe.getMessage());
    ObjectNode gap = new SyntheticTokenizer(2).toHfJson();
    ((ObjectNode) gap.path("model").path("vocab")).put("Tom", 100_000);
    IllegalArgumentException ids = assertThrows(IllegalArgumentException.class, () -> SyntheticTokenizer.fromHfJson(gap));
    assertTrue(ids.getMessage().contains("'Tom' id 100000"), ids.getMessage());
  }

  private static int id(JsonNode vocab, String piece) {
    assertTrue(vocab.has(piece), piece);
    return vocab.path(piece).asInt();
  }
}
