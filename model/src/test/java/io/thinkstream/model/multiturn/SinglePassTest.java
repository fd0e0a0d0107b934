package io.thinkstream.model.multiturn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.Masks;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.Transformer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Single-pass loss and gradients against the N-pass reference, in float64 on a tiny model. */
class SinglePassTest {
  static final int VOCAB = 29;
  static final int PAD = 0;
  static final ModelConfig CONFIG = new ModelConfig(VOCAB, 16, 2, 4, 2, 24, 10_000, 256, 1e-5, false);
  static Transformer model;

  @BeforeAll
  static void sharpModel() {
    model = Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT64, 11);
    // Larger weights make attention far from uniform, so a wrongly visible key moves the loss a lot.
    model.parameters().values().forEach(p -> p.muli(10));
    model.requireGradients();
  }

  @AfterAll
  static void close() {
    model.close();
  }

  /** Random conversations: 1..maxTurns turns; each turn has reasoning with probability {@code pReasoning}. */
  static List<Conversation.Tokens> conversations(SplittableRandom rnd, int n, int maxTurns, double pReasoning) {
    return conversations(rnd, n, maxTurns, pReasoning, 0.0);
  }

  /** As above; each turn also has a strategy tag (1 or 2 ids) with probability {@code pTag}. */
  static List<Conversation.Tokens> conversations(SplittableRandom rnd, int n, int maxTurns, double pReasoning,
      double pTag) {
    List<Conversation.Tokens> out = new ArrayList<>();
    for (int c = 0; c < n; c++) {
      int turns = 1 + rnd.nextInt(maxTurns);
      List<Conversation.TokenTurn> tt = new ArrayList<>();
      for (int t = 0; t < turns; t++) {
        int[] r = rnd.nextDouble() < pReasoning ? ids(rnd, 1 + rnd.nextInt(6)) : new int[0];
        int[] tag = rnd.nextDouble() < pTag ? ids(rnd, 1 + rnd.nextInt(2)) : new int[0];
        tt.add(new Conversation.TokenTurn(ids(rnd, 1 + rnd.nextInt(5)), r, ids(rnd, 1 + rnd.nextInt(4)), tag));
      }
      out.add(new Conversation.Tokens("c" + c, tt));
    }
    return out;
  }

  static int[] ids(SplittableRandom rnd, int n) {
    return rnd.ints(n, 1, VOCAB).toArray();
  }

  record LossAndGrads(double loss, Map<String, double[]> grads) {}

  /** Loss and every parameter's gradient of the sum of {@code parts}, gradients zeroed first and after. */
  static LossAndGrads lossAndGrads(List<Function<NDManager, NDArray>> parts) {
    double loss = 0;
    for (Function<NDManager, NDArray> part : parts) {
      try (NDManager step = model.newStepManager(); GradientCollector gc = step.getEngine().newGradientCollector()) {
        NDArray l = part.apply(step);
        gc.backward(l);
        loss += l.getDouble();
      }
    }
    Map<String, double[]> grads = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
      try (NDArray g = p.getValue().getGradient()) {
        grads.put(p.getKey(), g.toDoubleArray());
        g.subi(g); // accumulation starts from zero for the next computation
      }
    }
    return new LossAndGrads(loss, grads);
  }

  static LossAndGrads singlePass(SinglePass.Rows rows) {
    return lossAndGrads(List.of(step -> SinglePass.loss(model, step, rows)));
  }

  static LossAndGrads singlePassDense(SinglePass.Rows rows) {
    return lossAndGrads(List.of(step -> SinglePass.denseLoss(model, step, rows)));
  }

  /** Both single-pass forms (block-sparse and dense attention) against the N-pass reference. */
  static void assertBothMatch(SinglePass.Rows rows, List<Conversation.Tokens> convs) {
    LossAndGrads reference = nPass(convs);
    assertSame(singlePass(rows), reference, rows);
    assertSame(singlePassDense(rows), reference, rows);
  }

  static LossAndGrads nPass(List<Conversation.Tokens> convs) {
    return lossAndGrads(LmTrainer.normalised(NPass.lossParts(model, NPass.batches(convs, CONFIG.maxPositions(), PAD))));
  }

  static void assertSame(LossAndGrads single, LossAndGrads reference, SinglePass.Rows rows) {
    String mask = rows.render(0);
    double lossErr = Math.abs(single.loss() - reference.loss()) / Math.abs(reference.loss());
    assertTrue(lossErr <= 1e-6, "loss " + single.loss() + " vs N-pass " + reference.loss() + "\n" + mask);
    for (String name : reference.grads().keySet()) {
      double[] a = single.grads().get(name);
      double[] b = reference.grads().get(name);
      double scale = 0;
      double diff = 0;
      for (int i = 0; i < b.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]));
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
      }
      assertTrue(scale > 0, name + " has no gradient at all");
      assertTrue(diff <= 1e-6 * scale, name + ": max |grad diff| " + diff + " vs max |grad| " + scale + "\n" + mask);
    }
  }

  @Test
  void lossAndEveryGradientEqualTheNPassOnes() {
    SplittableRandom rnd = new SplittableRandom(2026);
    for (int trial = 0; trial < 6; trial++) {
      List<Conversation.Tokens> convs = conversations(rnd, 3, 8, 0.6);
      SinglePass.Rows rows = SinglePass.rows(convs, CONFIG.maxPositions(), PAD);
      assertEquals(convs.size(), rows.batch());
      assertBothMatch(rows, convs);
    }
  }

  @Test
  void taggedTurnsGiveTheNPassLossAndGradients() {
    // tags with and without reasoning: a tag is hidden context like reasoning, but never trained
    SplittableRandom rnd = new SplittableRandom(41);
    for (int trial = 0; trial < 4; trial++) {
      List<Conversation.Tokens> convs = conversations(rnd, 4, 6, 0.5, 0.7);
      assertTrue(convs.stream().flatMap(c -> c.turns().stream()).anyMatch(t -> t.tag().length > 0 && !t.hasReasoning()));
      assertBothMatch(SinglePass.packed(convs, 200, CONFIG.maxPositions(), PAD), convs);
    }
  }

  @Test
  void packedConversationsGiveTheSameLossAndGradients() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int trial = 0; trial < 4; trial++) {
      List<Conversation.Tokens> convs = conversations(rnd, 6, 8, 0.6);
      SinglePass.Rows rows = SinglePass.packed(convs, 140, CONFIG.maxPositions(), PAD);
      assertTrue(rows.batch() < convs.size(), "several conversations share a row");
      assertBothMatch(rows, convs);
    }
  }

  @Test
  void withoutAnyReasoningNothingIsDuplicatedAndTheMaskIsCausal() {
    List<Conversation.Tokens> convs = conversations(new SplittableRandom(3), 4, 8, 0.0);
    SinglePass.Rows rows = SinglePass.packed(convs, 200, CONFIG.maxPositions(), PAD);
    long tokens = convs.stream().flatMap(c -> c.turns().stream())
        .mapToLong(t -> t.human().length + t.answer().length).sum();
    assertEquals(tokens, rows.realTokens(), "one answer copy per turn");
    for (int b = 0; b < rows.batch(); b++) {
      for (int q = 0; q < rows.width(); q++) {
        assertTrue(rows.roles()[b][q] != SinglePass.Role.ANSWER_IN && rows.roles()[b][q] != SinglePass.Role.ANSWER_OUT);
        for (int k = 0; k < rows.width(); k++) {
          boolean causal = k <= q && rows.segments()[b][k] != 0 && rows.segments()[b][k] == rows.segments()[b][q];
          assertEquals(causal, rows.visible(b, q, k), "q " + q + " k " + k + "\n" + rows.render(b));
        }
      }
    }
    assertBothMatch(rows, convs);
  }

  @Test
  void theComparisonNoticesAVisibleReasoningBlock() {
    // Guard against a comparison that cannot fail: training the duplicated layout under a plain
    // causal mask lets answers and later turns see earlier reasoning, and the loss must move.
    List<Conversation.Tokens> convs = conversations(new SplittableRandom(5), 3, 4, 1.0);
    SinglePass.Rows rows = SinglePass.rows(convs, CONFIG.maxPositions(), PAD);
    double reference = nPass(convs).loss();
    double leaky = lossAndGrads(List.of(step -> LmTrainer.perToken(LmTrainer.nll(model, step, rows.tokens(),
        step.create(rows.positions()), Masks.causal(step, rows.segments()), rows.targets(), rows.weights()),
        rows.trainedTokens()))).loss();
    assertTrue(Math.abs(leaky - reference) / reference > 1e-3, "causal-only " + leaky + " vs N-pass " + reference);
  }

  @Test
  void trainingStepsLowerTheLossWithoutLeakingArrays() {
    ModelConfig config = ModelConfig.tiny(VOCAB);
    List<Conversation.Tokens> convs = conversations(new SplittableRandom(11), 4, 4, 0.7);
    SinglePass.Rows rows = SinglePass.packed(convs, 128, config.maxPositions(), PAD);
    try (Transformer m = Transformer.init(config, Device.cpu(), DataType.FLOAT32, 1)) {
      LmTrainer trainer = new LmTrainer(m, new LmTrainer.Schedule(3e-3f, 2, 40), 0f);
      List<LmTrainer.Part> loss = List.of(SinglePass.part(m, rows));
      float first = trainer.step(loss); // creates AdamW's moments once
      int arrays = m.managedArrayCount();
      float last = first;
      for (int i = 0; i < 20; i++) {
        last = trainer.step(loss);
        assertEquals(arrays, m.managedArrayCount(), "step " + i);
      }
      assertTrue(last < 0.8 * first, "the loss should fall on a repeated batch: " + first + " -> " + last);
    }
  }
}
