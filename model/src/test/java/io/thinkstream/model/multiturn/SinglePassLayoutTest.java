package io.thinkstream.model.multiturn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.SyntheticTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The packer's layout, position ids, mask, labels and errors, without a model. */
class SinglePassLayoutTest {
  static final int[] NONE = {};

  /** Turn 1: H=[10,11] R=[20,21] A=[30,31]; turn 2 without reasoning: H=[12] A=[32]. */
  static Conversation.Tokens example() {
    return new Conversation.Tokens("ex", List.of(
        new Conversation.TokenTurn(new int[] {10, 11}, new int[] {20, 21}, new int[] {30, 31}),
        new Conversation.TokenTurn(new int[] {12}, NONE, new int[] {32})));
  }

  @Test
  void layoutPositionsMaskAndLabelsFollowTheRule() {
    SinglePass.Rows rows = SinglePass.rows(List.of(example()), 64, 0);
    assertArrayEquals(new int[] {10, 11, 20, 21, 30, 31, 30, 31, 12, 32}, rows.tokens()[0]);
    // R and A^in both start at p = 2; A^out at p + |R| = 4; afterwards p advances by |A| only.
    assertArrayEquals(new int[] {0, 1, 2, 3, 2, 3, 4, 5, 4, 5}, rows.positions()[0]);
    String expected = """
        row 0, 10 positions
                    HHRRIIOOHA
                    1111111122
        H1 p0       #.........
        H1 p1       ##........
        R1 p2       ###.......
        R1 p3       ####......
        I1 p2       ##..#.....
        I1 p3       ##..##....
        O1 p4       ####..#...
        O1 p5       ####..##..
        H2 p4       ##..##..#.
        A2 p5       ##..##..##
        """;
    assertEquals(expected, rows.render(0));
    // The last H token predicts R[0]; the last R token predicts A[0] (A^in sits between them);
    // A^out trains the rest of the answer; A^in and the other H tokens carry no loss.
    assertArrayEquals(new float[] {0, 1, 1, 1, 0, 0, 1, 0, 1, 0}, rows.weights()[0]);
    assertEquals(20, rows.targets()[0][1]);
    assertEquals(21, rows.targets()[0][2]);
    assertEquals(30, rows.targets()[0][3]);
    assertEquals(31, rows.targets()[0][6]);
    assertEquals(32, rows.targets()[0][8]);
    assertEquals(5.0, rows.trainedTokens(), "|R1| + |A1| + |A2|");
  }

  @Test
  void aTagIsHiddenContextThatIsNeverTrained() {
    // turn 1: H=[10] T=[40] R=[20] A=[30]; turn 2 tagged without reasoning: H=[12] T=[41] A=[32]
    Conversation.Tokens c = new Conversation.Tokens("tagged", List.of(
        new Conversation.TokenTurn(new int[] {10}, new int[] {20}, new int[] {30}, new int[] {40}),
        new Conversation.TokenTurn(new int[] {12}, NONE, new int[] {32}, new int[] {41})));
    SinglePass.Rows rows = SinglePass.rows(List.of(c), 64, 0);
    assertArrayEquals(new int[] {10, 40, 20, 30, 30, 12, 41, 32, 32}, rows.tokens()[0]);
    // T R and A^in start at p; A^out at p + |T| + |R|; p advances by |A| only.
    assertArrayEquals(new int[] {0, 1, 2, 1, 3, 2, 3, 3, 4}, rows.positions()[0]);
    String expected = """
        row 0, 9 positions
                    HTRIOHTIO
                    111112222
        H1 p0       #........
        T1 p1       ##.......
        R1 p2       ###......
        I1 p1       #..#.....
        O1 p3       ###.#....
        H2 p2       #..#.#...
        T2 p3       #..#.##..
        I2 p3       #..#.#.#.
        O2 p4       #..#.##.#
        """;
    assertEquals(expected, rows.render(0));
    // the tag's last token predicts the turn's first trained token; H and T are never targets
    assertArrayEquals(new float[] {0, 1, 1, 0, 0, 0, 1, 0, 0}, rows.weights()[0]);
    assertEquals(20, rows.targets()[0][1]);
    assertEquals(30, rows.targets()[0][2]);
    assertEquals(32, rows.targets()[0][6]);
    assertEquals(SinglePass.length(c), rows.width());
    assertArrayEquals(new int[] {10, 30, 12, 41}, c.context(1), "turn 2 sees H1 A1 H2 T2, never T1 or R1");
    LmTrainer.Batch second = NPass.batches(List.of(c), 64, 0).get(1);
    assertArrayEquals(new int[] {10, 30, 12, 41, 32}, second.tokens()[0]);
    assertArrayEquals(new float[] {0, 0, 0, 1, 0}, second.weights()[0]);
  }

  @Test
  void theFirstTurnOfATaggedConversationIsTheSingleTurnPrompt() {
    SyntheticTokenizer tok = new SyntheticTokenizer(2);
    Conversation.Tokens t = new Conversation("t", List.of(
        new Conversation.Turn("Mia has 3 coins.", "3+1=4", "#### 4", "<think2>"),
        new Conversation.Turn("Now add 1 to that.", "4+1=5", "#### 5", "<think2>"))).tokenize(tok);
    assertArrayEquals(tok.encodePrompt("Mia has 3 coins.", "<think2>"), t.context(0));
    assertArrayEquals(new int[] {tok.tokenId("<think2>")}, t.turns().get(1).tag());
  }

  @Test
  void aSingleTurnIsLaidOutOnceWithItsAnswerDuplicated() {
    Conversation.Tokens one = new Conversation.Tokens("one",
        List.of(new Conversation.TokenTurn(new int[] {5}, new int[] {6, 7, 8}, new int[] {9})));
    SinglePass.Rows rows = SinglePass.rows(List.of(one), 64, 0);
    assertArrayEquals(new int[] {5, 6, 7, 8, 9, 9}, rows.tokens()[0]);
    assertArrayEquals(new int[] {0, 1, 2, 3, 1, 4}, rows.positions()[0]);
    assertTrue(rows.render(0).contains("O1 p4       ####.#"), rows.render(0));
    LmTrainer.Batch reference = NPass.batches(List.of(one), 64, 0).get(0);
    assertArrayEquals(new int[] {5, 6, 7, 8, 9}, reference.tokens()[0]);
    assertArrayEquals(new float[] {1, 1, 1, 1, 0}, reference.weights()[0]);
  }

  @Test
  void packedConversationsNeverSeeEachOtherAndRowsArePadded() {
    Conversation.Tokens a = example();
    Conversation.Tokens b = new Conversation.Tokens("b",
        List.of(new Conversation.TokenTurn(new int[] {13}, new int[] {22}, new int[] {33})));
    SinglePass.Rows rows = SinglePass.packed(List.of(a, b, a), 14, 64, 0);
    assertEquals(2, rows.batch(), "a (10) + b (4) fill a row of 14; the second a starts a row");
    assertEquals(14, rows.width());
    for (int q = 10; q < 14; q++) {
      for (int k = 0; k < 10; k++) {
        assertTrue(!rows.visible(0, q, k), "b sees a at q " + q + " k " + k + "\n" + rows.render(0));
      }
    }
    assertArrayEquals(new int[] {0, 1, 1, 2}, java.util.Arrays.copyOfRange(rows.positions()[0], 10, 14),
        "b's positions restart at 0");
    assertEquals(0, rows.segments()[1][10], "the second row is padded");
    assertEquals(24, rows.realTokens());
  }

  @Test
  void aConversationBeyondMaxPositionsIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SinglePass.rows(List.of(example()), 5, 0));
    assertEquals("conversation 'ex' turn 1 needs position id 5, beyond the model's max_position_embeddings 5",
        e.getMessage());
    IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> NPass.batches(List.of(example()), 5, 0));
    assertEquals(e.getMessage(), n.getMessage());
  }

  @Test
  void aConversationWiderThanARowIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SinglePass.packed(List.of(example()), 8, 64, 0));
    assertEquals("conversation 'ex' takes 10 positions laid out single-pass, more than a row's 8", e.getMessage());
  }

  @Test
  void anEmptyAnswerIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Conversation("c7",
        List.of(new Conversation.Turn("hi", "", "hello"), new Conversation.Turn("and?", "hmm", "  "))));
    assertEquals("conversation 'c7' turn 2: empty answer (every assistant turn needs an answer to train on)",
        e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new Conversation.TokenTurn(new int[] {1}, NONE, NONE));
  }

  @Test
  void tokenizationPlacesBosOnceAndEosAfterEveryAnswer() {
    SyntheticTokenizer tok = new SyntheticTokenizer(0);
    Conversation c = new Conversation("t", List.of(new Conversation.Turn("Mia has 3 coins.", "3+1=4", "4"),
        new Conversation.Turn("Now add 1 to that.", "", "5")));
    Conversation.Tokens t = c.tokenize(tok);
    assertEquals(tok.bosId(), t.turns().get(0).human()[0]);
    assertTrue(java.util.Arrays.stream(t.turns().get(1).human()).noneMatch(id -> id == tok.bosId()));
    for (Conversation.TokenTurn turn : t.turns()) {
      assertEquals(tok.eosId(), turn.answer()[turn.answer().length - 1]);
    }
    assertEquals("3+1=4\n", tok.decode(t.turns().get(0).reasoning(), true));
    assertEquals(0, t.turns().get(1).reasoning().length);
  }
}
