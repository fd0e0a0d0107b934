package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.SftExample;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.schemas.text.PromptFormat;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Records become tokens in the one PromptFormat layout: {@code <bos>} + prompt + completion + {@code <eos>}. */
class ItemTest {
  final SyntheticTokenizer tok = new SyntheticTokenizer(2);
  final String question = "Tom has 3 apples and buys 4 more. How many does he have now?";

  @Test
  void aPairIsThePromptTheSamplerSampledFromThenEachCompletionAndEos() {
    PreferencePair p = PreferencePair.newBuilder().setPairId("x").setProblemId("p").setKind(PairKind.OUTCOME)
        .setPrompt(PromptFormat.prompt(question, PromptFormat.tag(2))).setChosen("3 + 4 = 7\n#### 7")
        .setRejected("3 - 4 = -1\n#### -1").setPolicyVersion(3).setMargin(1).setSourceSampleIds(List.of())
        .setCreatedAt(Instant.EPOCH).build();
    Item.Pair item = Item.of(p, new Item.Source("t", 0, 5), tok);
    assertArrayEquals(tok.encodePrompt(question, PromptFormat.tag(2)), item.preference().prompt(), "SFT's prompt, bos first");
    assertEquals(tok.bosId(), item.preference().prompt()[0]);
    int[] chosen = item.preference().chosen();
    assertEquals(tok.eosId(), chosen[chosen.length - 1]);
    assertEquals("3 + 4 = 7\n#### 7", tok.decode(java.util.Arrays.copyOf(chosen, chosen.length - 1), false));
    assertEquals("dpo", item.objective());
  }

  @Test
  void aPitPairTrainsStepDpoOnTheStepsBeforeThePit() {
    String prefix = PromptFormat.prefix(PromptFormat.prompt(question, PromptFormat.tag(1)), List.of("3 + 4 = 7"));
    PreferencePair p = PreferencePair.newBuilder().setPairId("y").setProblemId("p").setKind(PairKind.PIT)
        .setPrompt(prefix).setChosen("#### 7").setRejected("7 * 2 = 14").setPolicyVersion(0).setMargin(1)
        .setSourceSampleIds(List.of()).setCreatedAt(Instant.EPOCH).build();
    Item.Pair item = Item.of(p, new Item.Source("t", 0, 6), tok);
    assertArrayEquals(tok.encodeAfterBos(prefix), item.preference().prompt());
    assertEquals("pit", item.objective());
  }

  @Test
  void anSftExampleIsPromptThenCompletionAndEos() {
    SftExample e = SftExample.newBuilder().setProblemId("p").setSampleId("s").setPrompt(PromptFormat.prompt(question, null))
        .setCompletion("3 + 4 = 7\n#### 7").setStrategy(null).setPolicyVersion(1).build();
    Item.Example item = (Item.Example) Item.of(e, new Item.Source("t", 0, 7), tok);
    assertArrayEquals(tok.encodePrompt(question, null), item.example().prompt());
    assertEquals(tok.eosId(), item.example().continuation()[item.example().continuation().length - 1]);
    assertEquals(item.example().prompt().length + item.example().continuation().length, item.length());
  }
}
