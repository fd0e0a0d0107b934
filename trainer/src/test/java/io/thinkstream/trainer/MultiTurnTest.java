package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.Transformer;
import io.thinkstream.model.multiturn.Conversation;
import io.thinkstream.model.multiturn.NPass;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** A multi-turn item trained through the trainer's objective (one SinglePass) against one pass per turn. */
class MultiTurnTest {
  static final int VOCAB = 29;
  static final ModelConfig CONFIG = new ModelConfig(VOCAB, 16, 2, 4, 2, 24, 10_000, 256, 1e-5, false);

  record LossAndGrads(double loss, Map<String, double[]> grads) {}

  static LossAndGrads run(Transformer model, List<Function<NDManager, NDArray>> parts) {
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
        g.subi(g);
      }
    }
    return new LossAndGrads(loss, grads);
  }

  @Test
  void aMultiTurnItemHasTheNPassLossAndGradients() {
    SplittableRandom rnd = new SplittableRandom(17);
    List<Conversation.Tokens> convs = new ArrayList<>();
    List<Item> items = new ArrayList<>();
    for (int c = 0; c < 3; c++) {
      List<Conversation.TokenTurn> turns = new ArrayList<>();
      for (int t = 0; t < 2 + c; t++) {
        turns.add(new Conversation.TokenTurn(rnd.ints(1 + rnd.nextInt(4), 1, VOCAB).toArray(),
            rnd.ints(1 + rnd.nextInt(5), 1, VOCAB).toArray(), rnd.ints(1 + rnd.nextInt(3), 1, VOCAB).toArray()));
      }
      Conversation.Tokens conv = new Conversation.Tokens("c" + c, turns);
      convs.add(conv);
      items.add(new Item.Dialogue("c" + c, new Item.Source("t", 0, c), conv, "p" + c, 0));
    }
    try (Transformer model = Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT64, 11)) {
      model.parameters().values().forEach(p -> p.muli(10));
      model.requireGradients();
      Objectives.Weights w = new Objectives.Weights(1, 0.1, 1, 0.1, 1, false);
      LossAndGrads single = run(model, List.of(step -> Objectives.build(model, step, items, new Objectives.References(null, null, java.util.List.of()), w, 0).total()));
      LossAndGrads nPass = run(model, LmTrainer.normalised(NPass.lossParts(model, NPass.batches(convs, CONFIG.maxPositions(), 0))));
      double rel = Math.abs(single.loss() - nPass.loss()) / Math.abs(nPass.loss());
      assertTrue(rel <= 1e-6, "loss " + single.loss() + " vs N-pass " + nPass.loss());
      for (String name : nPass.grads().keySet()) {
        double[] a = single.grads().get(name);
        double[] b = nPass.grads().get(name);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < b.length; i++) {
          scale = Math.max(scale, Math.abs(b[i]));
          diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        assertTrue(scale > 0 && diff <= 1e-6 * scale, name + ": max |diff| " + diff + " vs max |grad| " + scale);
      }
    }
  }
}
