package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.thinkstream.avro.SftExample;
import io.thinkstream.avro.SftTurn;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.model.multiturn.Conversation;
import io.thinkstream.model.multiturn.NPass;
import io.thinkstream.model.multiturn.SinglePass;
import io.thinkstream.sampler.Prompt;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A multi-turn SFT example trains as one single-pass dialogue on exactly the ids the sampler fed
 * each turn ({@link Prompt.Turn#ids}), with each turn's reasoning and answer the trained tokens.
 */
class MultiTurnExampleTest {
  static final SyntheticTokenizer TOK = new SyntheticTokenizer(2);
  static final String TAG = PromptFormat.tag(2);
  static final List<String> QUESTIONS = List.of("Tom has 3 apples and buys 4 more. How many does he have now?",
      "He gives away 2. How many does he have now?", "Then the number of apples doubles. How many does he have now?");
  static final List<String> COMPLETIONS = List.of("3 + 4 = 7\n#### 7", "7 - 2 = 5\n#### 5", "5 * 2 = 10\n#### 10");

  static SftExample example(String sampleId) {
    List<SftTurn> later = new ArrayList<>();
    for (int t = 1; t < QUESTIONS.size(); t++) {
      later.add(new SftTurn(QUESTIONS.get(t), COMPLETIONS.get(t)));
    }
    return SftExample.newBuilder().setProblemId("p").setSampleId(sampleId).setPrompt(PromptFormat.prompt(QUESTIONS.get(0), TAG))
        .setCompletion(COMPLETIONS.get(0)).setStrategy(TAG).setPolicyVersion(3).setFollowUps(later).build();
  }

  @Test
  void everyTurnIsTrainedOnTheIdsTheSamplerFedItThenItsReasoningAndAnswer() {
    Item.Dialogue d = assertInstanceOf(Item.Dialogue.class, Item.of(example("s"), new Item.Source("t", 0, 1), TOK));
    assertEquals("multiturn", d.objective());
    assertEquals("s", d.id());
    assertEquals(3, d.policyVersion());
    Conversation.Tokens c = d.conversation();
    assertEquals(3, c.turns().size());
    List<Prompt.Exchange> earlier = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      int[] sampled = new Prompt.Turn(earlier, QUESTIONS.get(t), TAG).ids(TOK);
      assertArrayEquals(sampled, c.context(t), "turn " + (t + 1) + "'s context");
      Conversation.TokenTurn turn = c.turns().get(t);
      int[] trained = concat(turn.reasoning(), turn.answer());
      assertEquals(TOK.eosId(), trained[trained.length - 1]);
      assertEquals(COMPLETIONS.get(t), TOK.decode(Arrays.copyOf(trained, trained.length - 1), false));
      earlier.add(new Prompt.Exchange(QUESTIONS.get(t), PromptFormat.split(COMPLETIONS.get(t)).answer()));
    }
    assertArrayEquals(TOK.encodePrompt(QUESTIONS.get(0), TAG), c.context(0), "turn 1 is the single-turn SFT prompt");

    SinglePass.Rows rows = SinglePass.rows(List.of(c), 256, TOK.padId());
    assertEquals(1, rows.batch(), "one conversation, one row: one forward pass");
    assertEquals(d.length(), rows.width());
    double trainedTokens = c.turns().stream().mapToInt(t -> t.reasoning().length + t.answer().length).sum();
    assertEquals(trainedTokens, rows.trainedTokens(), "reasoning and answer of every turn, never a question or tag");
    List<LmTrainer.Batch> perTurn = NPass.batches(List.of(c), 256, TOK.padId());
    for (int t = 0; t < 3; t++) {
      int[] context = c.context(t);
      assertArrayEquals(context, Arrays.copyOf(perTurn.get(t).tokens()[0], context.length));
      assertEquals(0f, perTurn.get(t).weights()[0][context.length - 2], "the tag is never a target");
    }
  }

  @Test
  void theTrainerObjectiveIsOneSinglePassWithTheNPassLoss() {
    Item.Dialogue d = (Item.Dialogue) Item.of(example("s"), new Item.Source("t", 0, 1), TOK);
    ModelConfig config = new ModelConfig(TOK.vocabSize(), 16, 2, 4, 2, 24, 10_000, 256, 1e-5, false);
    try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT64, 5)) {
      model.requireGradients();
      Objectives.Weights w = new Objectives.Weights(1, 0.1, 1, 0.1, 1, false);
      List<String> objectives = new ArrayList<>();
      MultiTurnTest.LossAndGrads single = MultiTurnTest.run(model, List.of(step -> {
        Objectives.Built built = Objectives.build(model, step, List.of(d), new Objectives.References(null, null, List.of()),
            w, TOK.padId());
        objectives.addAll(built.parts().keySet());
        return built.total();
      }));
      assertEquals(List.of("multiturn"), objectives);
      MultiTurnTest.LossAndGrads nPass = MultiTurnTest.run(model,
          LmTrainer.normalised(NPass.lossParts(model, NPass.batches(List.of(d.conversation()), 256, TOK.padId()))));
      double rel = Math.abs(single.loss() - nPass.loss()) / Math.abs(nPass.loss());
      assertTrue(rel <= 1e-6, "loss " + single.loss() + " vs N-pass " + nPass.loss());
    }
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
