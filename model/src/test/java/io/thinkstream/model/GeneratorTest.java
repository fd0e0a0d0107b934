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
    // Both are float32 passes over weights scaled by 8 (peaked logits): against the same weights in
    // float64, the Scorer's full pass is off by up to 1.3e-4 here and the decoding step by 3e-5.
    for (int i = 0; i < s.perToken().length; i++) {
      assertEquals(g.logProbs()[i], s.perToken()[i], 5e-4, "token " + i);
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

  /** The whole-text rule the incremental check must match: decode everything after each token. */
  static Generation cutTheOldWay(Generation free, List<String> stops) {
    for (int n = 1; n <= free.tokens().length; n++) {
      String text = TOK.decode(Arrays.copyOf(free.tokens(), n), true);
      for (String stop : stops) {
        int at = text.indexOf(stop);
        if (at >= 0) {
          return new Generation(Arrays.copyOf(free.tokens(), n), null, text.substring(0, at), Generation.Finish.STOP_STRING);
        }
      }
    }
    return free;
  }

  @Test
  void incrementalStopStringsCutWhereTheWholeTextSearchCuts() {
    int[] p = prompt("Ben has 6 pears.");
    for (long seed = 0; seed < 4; seed++) {
      Generation free = generator.generate(List.of(new Generator.Request(p, seed)), HOT).get(0);
      String text = TOK.decode(free.tokens(), true);
      List<List<String>> cases = List.of(
          List.of(text.substring(3, 5)), List.of(text.substring(text.length() - 2)),
          List.of("never-in-the-output", text.substring(10, 13), text.substring(1, 2)),
          List.of(text.substring(4, 9), text.substring(2, 3)));
      for (List<String> stops : cases) {
        Generation want = cutTheOldWay(free, stops);
        Generation got = generator.generate(List.of(new Generator.Request(p, seed)), HOT.withStopStrings(stops)).get(0);
        assertEquals(want.finish(), got.finish(), "stops " + stops);
        assertEquals(want.text(), got.text(), "stops " + stops);
        assertArrayEquals(want.tokens(), got.tokens(), "stops " + stops);
      }
    }
  }

  /** A tokenizer whose decode drops the first piece's leading space, as SentencePiece does. */
  static final class LeadingSpace implements Tokenizer {
    static final String[] PIECES = {"<s>", " a", " b", "c", " d", "\u00e9"};

    @Override public int[] encode(String text) {
      throw new UnsupportedOperationException();
    }

    @Override public String decode(int[] ids, boolean skipSpecial) {
      StringBuilder sb = new StringBuilder();
      for (int id : ids) {
        if (id != 0 || !skipSpecial) {
          sb.append(PIECES[id]);
        }
      }
      return sb.length() > 0 && sb.charAt(0) == ' ' ? sb.substring(1) : sb.toString();
    }

    @Override public int vocabSize() {
      return PIECES.length;
    }

    @Override public int bosId() {
      return -1;
    }

    @Override public int eosId() {
      return -1;
    }

    @Override public int padId() {
      return -1;
    }

    @Override public int tokenId(String token) {
      return -1;
    }
  }

  @Test
  void incrementalTextEqualsTheWholeDecodeForANonConcatenatingTokenizer() {
    Tokenizer tok = new LeadingSpace();
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
    for (int trial = 0; trial < 50; trial++) {
      Generator.StopText stops = new Generator.StopText(tok, List.of("zz"));
      int[] ids = new int[30];
      for (int n = 1; n <= ids.length; n++) {
        ids[n - 1] = rnd.nextInt(tok.vocabSize());
        assertEquals(-1, stops.add(ids, n));
        assertEquals(tok.decode(Arrays.copyOf(ids, n), true), stops.text(), "after " + n + " ids");
      }
    }
  }

  @Test
  void anyOfSeveralStopIdsEndsTheRow() {
    int[] p = prompt("Zoe has 8 stamps.");
    Generation free = generator.generate(List.of(new Generator.Request(p, 6)), HOT).get(0);
    int a = free.tokens()[4];
    int b = free.tokens()[9];
    int first = 0;
    while (free.tokens()[first] != a && free.tokens()[first] != b) {
      first++;
    }
    for (List<Integer> ids : List.of(List.of(a, b), List.of(b, a), List.of(TOK.eosId(), b, a))) {
      Generation stopped = generator.generate(List.of(new Generator.Request(p, 6)), HOT.withStopTokens(ids)).get(0);
      assertEquals(Generation.Finish.STOP_TOKEN, stopped.finish(), "stop ids " + ids);
      assertArrayEquals(Arrays.copyOf(free.tokens(), first + 1), stopped.tokens(), "stop ids " + ids);
    }
  }

  @Test
  void promptIdsOutsideTheVocabularyAreRejectedWithRowAndId() {
    List<Generator.Request> bad = List.of(new Generator.Request(prompt("ok"), 1), new Generator.Request(new int[] {1, -1, 5}, 2));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> generator.generate(bad, HOT));
    assertTrue(e.getMessage().contains("row 1") && e.getMessage().contains("-1"), e.getMessage());
    int vocab = model.config().vocabSize();
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> generator.generateWithoutCache(List.of(new Generator.Request(new int[] {1, vocab}, 2)), HOT));
    assertTrue(e.getMessage().contains("row 0") && e.getMessage().contains(String.valueOf(vocab)), e.getMessage());
  }

  @Test
  void aTokenizerWithoutBosNeverPutsMinusOneInThePrompt() {
    Tokenizer noBos = new LeadingSpace();
    Generator.Request r = Generator.Request.withBos(noBos, new int[] {1, 2}, 3);
    assertArrayEquals(new int[] {1, 2}, r.prompt());
    assertArrayEquals(new int[] {TOK.bosId(), 1, 2}, Generator.Request.withBos(TOK, new int[] {1, 2}, 3).prompt());
    // no pad either: padding columns still get a real id, so mixed prompt lengths work
    Transformer small = Transformer.init(ModelConfig.tiny(noBos.vocabSize()), Device.cpu(), DataType.FLOAT32, 2);
    try (small) {
      List<Generation> out = new Generator(small, noBos).generate(
          List.of(new Generator.Request(new int[] {1}, 1), new Generator.Request(new int[] {1, 2, 3}, 2)), HOT);
      assertEquals(2, out.size());
    }
  }

  @Test
  void managedArraysDoNotGrowAcrossGenerateCallsAndGradModeIsRestored() {
    List<Generator.Request> batch = List.of(
        new Generator.Request(prompt("Ivy has 3 kites."), 1), new Generator.Request(prompt("Max has 10 cards. He finds 2."), 2));
    SamplingParams params = HOT.withTopK(10).withStopStrings(List.of("zzz"));
    generator.generate(batch, params);
    int before = model.managedArrayCount();
    boolean grad = ai.djl.pytorch.jni.JniUtils.isGradMode();
    for (int i = 0; i < 3; i++) {
      generator.generate(batch, params);
      generator.generateWithoutCache(batch, params);
    }
    assertEquals(before, model.managedArrayCount());
    assertEquals(grad, ai.djl.pytorch.jni.JniUtils.isGradMode());
    ai.djl.pytorch.jni.JniUtils.setGradMode(true);
    try {
      generator.generate(batch, params);
      assertTrue(ai.djl.pytorch.jni.JniUtils.isGradMode(), "the caller's grad mode comes back");
    } finally {
      ai.djl.pytorch.jni.JniUtils.setGradMode(grad);
    }
  }

  /**
   * The step's fused matrices are built once per parameter version: a second generate call
   * allocates nothing that stays, and after a training step (which changes the parameters in
   * place and says so) sampling runs the new weights, equal to the full recompute, while the
   * stale matrices are freed.
   */
  @Test
  void fusedStepMatricesFollowTrainingSteps() {
    ModelConfig config = ModelConfig.tiny(TOK.vocabSize());
    try (Transformer trained = Transformer.init(config, Device.cpu(), DataType.FLOAT32, 12)) {
      trained.parameters().values().forEach(p -> p.muli(8));
      Generator gen = new Generator(trained, TOK);
      List<Generator.Request> batch = List.of(new Generator.Request(prompt("Zoe has 4 pens."), 3));
      int bare = trained.managedArrayCount();
      List<Generation> first = gen.generate(batch, HOT);
      int withMatrices = trained.managedArrayCount();
      assertTrue(withMatrices > bare, "the fused matrices stay with the model");
      assertArrayEquals(first.get(0).tokens(), gen.generate(batch, HOT).get(0).tokens());
      assertEquals(withMatrices, trained.managedArrayCount(), "a second call reuses them");

      trained.requireGradients();
      LmTrainer trainer = new LmTrainer(trained, new LmTrainer.Schedule(0.05f, 0, 10), 0f);
      for (int i = 0; i < 3; i++) {
        trainer.step(TrainingTest.batch(2, 8, config.vocabSize(), i));
      }
      int afterTraining = trained.managedArrayCount(); // the old matrices, the optimizer's state, gradients
      List<Generation> cached = gen.generate(batch, HOT);
      assertEquals(afterTraining, trained.managedArrayCount(), "new matrices replace the stale ones, which are freed");
      List<Generation> full = gen.generateWithoutCache(batch, HOT);
      assertArrayEquals(full.get(0).tokens(), cached.get(0).tokens(), "sampling runs the trained weights");
      assertFalse(Arrays.equals(first.get(0).tokens(), cached.get(0).tokens()) && Arrays.equals(
          first.get(0).logProbs(), cached.get(0).logProbs()), "three steps at lr 0.05 change the samples");
      Scorer.Score score = new Scorer(trained, TOK).score(List.of(new Scorer.Pair(batch.get(0).prompt(),
          cached.get(0).tokens()))).get(0);
      for (int i = 0; i < score.perToken().length; i++) {
        assertEquals(score.perToken()[i], cached.get(0).logProbs()[i], 5e-4, "token " + i);
      }
    }
  }
}
