package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import io.thinkstream.tasks.SyntheticProblems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
  final SyntheticTokenizer tok = new SyntheticTokenizer(4);

  @Test
  void everyGeneratedProblemTokenizesWithoutUnknownsOrSpelledWords() {
    int checked = 0;
    for (int steps = 1; steps <= 6; steps++) {
      SyntheticProblems problems = new SyntheticProblems(
          SyntheticProblems.Settings.defaults().withSteps(String.valueOf(steps)), steps, Clock.systemUTC());
      for (long i = 0; i < 300; i++) {
        Problem p = problems.problem(i);
        List<String> texts = new ArrayList<>();
        texts.add(p.getQuestion());
        p.getSolutions().stream().map(Solution::getText).forEach(texts::add);
        for (String text : texts) {
          int[] ids = tok.encode(text);
          assertEquals(text, tok.decode(ids, false));
          for (int id : ids) {
            assertTrue(id != tok.unkId(), "unknown token in: " + text);
            String piece = tok.decode(new int[] {id}, false);
            assertFalse(piece.length() == 1 && Character.isLetter(piece.charAt(0)),
                "a word was spelled letter by letter in: " + text);
          }
          checked++;
        }
      }
    }
    assertTrue(checked > 1800);
  }

  @Test
  void specialsAndTagsAreSingleTokens() {
    String text = "<bos>Mia has 3 apples.<think2>She has 3+1=<<3+1=4>>4 apples.\n#### 4<eos>";
    int[] ids = tok.encode(text);
    assertEquals(tok.bosId(), ids[0]);
    assertEquals(tok.eosId(), ids[ids.length - 1]);
    assertTrue(java.util.Arrays.stream(ids).anyMatch(i -> i == tok.tokenId("<think2>")));
    assertEquals(text, tok.decode(ids, false));
    assertEquals("Mia has 3 apples.She has 3+1=<<3+1=4>>4 apples.\n#### 4", tok.decode(ids, true));
    assertEquals(0, tok.padId());
    assertEquals(tok.unkId(), tok.encode("é")[0]);
  }

  @Test
  void wrapsHuggingFaceTokenizerJson(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("tokenizer.json");
    Files.writeString(json, """
        {"version": "1.0", "truncation": null, "padding": null,
         "added_tokens": [{"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false,
                           "normalized": false, "special": true}],
         "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
         "model": {"type": "WordLevel", "vocab": {"<unk>": 0, "hello": 1, "world": 2, "!": 3}, "unk_token": "<unk>"}}
        """);
    try (HfTokenizer hf = HfTokenizer.load(json, 4, -1, 0, -1)) {
      assertArrayEquals(new int[] {1, 2, 3}, hf.encode("hello world!"));
      assertArrayEquals(new int[] {1, 0}, hf.encode("hello there"));
      assertEquals(2, hf.tokenId("world"));
      assertEquals(0, hf.padId(), "pad falls back to eos");
      assertTrue(hf.decode(new int[] {1, 2}, true).contains("world"));
    }
    Files.writeString(dir.resolve("config.json"), "{\"vocab_size\": 8, \"bos_token_id\": 1, \"eos_token_id\": [3, 2]}");
    try (HfTokenizer hf = HfTokenizer.fromCheckpoint(dir)) {
      assertEquals(8, hf.vocabSize());
      assertEquals(1, hf.bosId());
      assertEquals(3, hf.eosId());
      assertEquals(3, hf.padId());
    }
  }
}
