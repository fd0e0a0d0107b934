package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeneratorTest {
  static final SyntheticTokenizer TOK = new SyntheticTokenizer(2);
  static Transformer model;
  static Generator generator;

  @BeforeAll
  static void init() {
    // Large init weights give a peaked, input-dependent distribution, like a trained model's.
    model = Transformer.init(ModelConfig.tiny(TOK.vocabSize()), Device.cpu(), DataType.FLOAT32, 11);
    model.parameters().values().forEach(p -> p.muli(8));
    generator = new Generator(model, TOK);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static int[] prompt(String text) {
    int[] body = TOK.encode(text);
    int[] p = new int[body.length + 1];
    p[0] = TOK.bosId();
    System.arraycopy(body, 0, p, 1, body.length);
    return p;
  }

  static final SamplingParams HOT = new SamplingParams(1.0, 1, 0, 24, List.of(), List.of());

  @Test
  void sameSeedSameSampleDifferentSeedsDifferentSamples() {
    int[] p = prompt("Mia has 5 apples.");
    Generation a = generator.generate(List.of(new Generator.Request(p, 42)), HOT).get(0);
    Generation b = generator.generate(List.of(new Generator.Request(p, 42)), HOT).get(0);
    assertArrayEquals(a.tokens(), b.tokens());
    assertArrayEquals(a.logProbs(), b.logProbs());
    long distinct = java.util.stream.LongStream.range(0, 6)
        .mapToObj(s -> Arrays.toString(generator.generate(List.of(new Generator.Request(p, s)), HOT).get(0).tokens()))
        .distinct().count();
    assertTrue(distinct >= 5, "six seeds gave only " + distinct + " distinct samples");
  }

  @Test
  void cachedSamplingEqualsFullRecomputeAndBatchingDoesNotChangeARow() {
    List<Generator.Request> batch = List.of(
        new Generator.Request(prompt("Tom has 12 coins. He finds 3 more coins."), 1),
        new Generator.Request(prompt("Ava has 7 books."), 2));
    SamplingParams topped = HOT.withTopK(20).withTopP(0.9);
    List<Generation> cached = generator.generate(batch, topped);
    List<Generation> full = generator.generateWithoutCache(batch, topped);
    for (int r = 0; r < 2; r++) {
      assertArrayEquals(full.get(r).tokens(), cached.get(r).tokens(), "row " + r);
      Generation alone = generator.generate(List.of(batch.get(r)), topped).get(0);
      assertArrayEquals(alone.tokens(), cached.get(r).tokens(), "left padding must be invisible, row " + r);
    }
  }

  @Test
  void reportedLogProbsEqualScores() {
    int[] p = prompt("Leo has 9 shells.");
    Generation g = generator.generate(List.of(new Generator.Request(p, 5)), HOT).get(0);
    Scorer.Score s = new Scorer(model, TOK).score(List.of(new Scorer.Pair(p, g.tokens()),
        new Scorer.Pair(prompt("x"), new int[] {3}))).get(0);
    assertEquals(g.tokens().length, s.perToken().length);
    for (int i = 0; i < s.perToken().length; i++) {
      assertEquals(g.logProbs()[i], s.perToken()[i], 1e-4, "token " + i);
    }
    assertEquals(g.sumLogProb(), s.sum(), 1e-3);
  }

  @Test
  void stopsAtStopTokensAndStopStrings() {
    int[] p = prompt("Sara has 4 marbles.");
    Generation free = generator.generate(List.of(new Generator.Request(p, 3)), HOT).get(0);
    assertEquals(Generation.Finish.LENGTH, free.finish());
    assertEquals(HOT.maxNewTokens(), free.tokens().length);
    int stop = free.tokens()[5];
    int first = 0;
    while (free.tokens()[first] != stop) {
      first++;
    }
    SamplingParams withStop = new SamplingParams(1.0, 1, 0, 24, List.of(stop), List.of());
    Generation stopped = generator.generate(List.of(new Generator.Request(p, 3)), withStop).get(0);
    assertEquals(Generation.Finish.STOP_TOKEN, stopped.finish());
    assertArrayEquals(Arrays.copyOf(free.tokens(), first + 1), stopped.tokens());

    String text = TOK.decode(free.tokens(), true);
    String needle = text.substring(6, 8);
    Generation cut = generator.generate(List.of(new Generator.Request(p, 3)), HOT.withStopStrings(List.of(needle))).get(0);
    assertEquals(Generation.Finish.STOP_STRING, cut.finish());
    assertEquals(text.substring(0, text.indexOf(needle)), cut.text());
    assertFalse(cut.text().contains(needle));
  }
}
