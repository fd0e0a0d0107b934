package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.thinkstream.avro.SftExample;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObjectivesTest {
  @Test
  void ssftModeMatchesEachProblemsTracesToTheTagsAndTrainsTheMatch() {
    SyntheticTokenizer tok = new SyntheticTokenizer(3);
    String question = "Ann has 9 pens. She gives away 2. How many does she have now?";
    List<Item> items = new ArrayList<>();
    String[] traces = {"9 - 2 = 7\n#### 7", "2 from 9 is 7\n#### 7"};
    for (int j = 0; j < traces.length; j++) {
      String tag = PromptFormat.tag(1 + j);
      items.add(Item.of(SftExample.newBuilder().setProblemId("p").setSampleId("s" + j)
          .setPrompt(PromptFormat.prompt(question, tag)).setCompletion(traces[j]).setStrategy(tag).setPolicyVersion(0)
          .build(), new Item.Source("t", 0, j), tok));
    }
    ModelConfig config = new ModelConfig(tok.vocabSize(), 16, 2, 4, 2, 24, 10_000, 128, 1e-5, false);
    try (Transformer policy = Transformer.init(config, Device.cpu(), DataType.FLOAT64, 4)) {
      policy.parameters().values().forEach(p -> p.muli(5));
      Objectives.Weights w = new Objectives.Weights(1, 0.1, 1, 0.1, 1, true);
      Objectives.References refs = Objectives.references(policy, policy, items, tok, w);
      assertEquals(1, refs.ssft().size(), "one problem");
      Objectives.Matching m = refs.ssft().get(0);
      assertEquals(3, m.prompts().size(), "the question under each of the three tags");
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(tok.encodeAfterBos(PromptFormat.prompt(question, PromptFormat.tag(i + 1))), m.prompts().get(i));
      }
      double[][] c = Losses.costs(policy, m.prompts(), m.traces(), tok.padId());
      assertEquals(HungarianTest.bruteForce(c), Hungarian.cost(c, m.match()), 1e-12);
      double expected;
      double got;
      try (NDManager step = policy.newStepManager()) {
        expected = Losses.ssft(policy, step, m.prompts(), m.traces(), m.match(), tok.padId()).getDouble();
        got = Objectives.build(policy, step, items, refs, w, tok.padId()).parts().get("ssft").getDouble();
      }
      assertEquals(expected, got, 1e-12);
    }
  }
}
