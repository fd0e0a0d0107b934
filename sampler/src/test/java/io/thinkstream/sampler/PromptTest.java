package io.thinkstream.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.multiturn.Conversation;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Prompts lay turns out as the trainers do, with earlier reasoning left out. */
class PromptTest {
  private static final SyntheticTokenizer TOK = new SyntheticTokenizer(4);

  @Test
  void aFirstTurnIsTheSftPrompt() {
    Prompt.Turn turn = new Prompt.Turn(List.of(), "Ann has 3 apples.", "<think2>");
    assertArrayEquals(TOK.encodePrompt("Ann has 3 apples.", "<think2>"), turn.ids(TOK));
    assertEquals("Ann has 3 apples.\n<think2>", turn.text());
  }

  @Test
  void aLaterTurnSeesEarlierQuestionsAndAnswersAsTheSinglePassLayoutLaysThemOut() {
    Conversation c = new Conversation("c", List.of(
        new Conversation.Turn("Ann has 3 apples.", "", "#### 3"),
        new Conversation.Turn("She buys 2 more.", "", "#### 5"),
        new Conversation.Turn("She eats one.", "", "#### 4")));
    List<Conversation.TokenTurn> t = c.tokenize(TOK).turns();
    Prompt.Turn third = new Prompt.Turn(List.of(new Prompt.Exchange("Ann has 3 apples.", "#### 3"),
        new Prompt.Exchange("She buys 2 more.", "#### 5")), "She eats one.", "<think1>");
    int[] want = concat(t.get(0).human(), t.get(0).answer(), t.get(1).human(), t.get(1).answer(), t.get(2).human(),
        TOK.encode("<think1>"));
    assertArrayEquals(want, third.ids(TOK));
  }

  @Test
  void everyTurnIsTheContextOfATaggedConversationWithItsReasoning() {
    // what the trainer lays out: the same turns, now with reasoning, under the sample's tag
    Conversation.Tokens c = new Conversation("c", List.of(
        new Conversation.Turn("Ann has 3 apples.", "3 apples", "#### 3", "<think2>"),
        new Conversation.Turn("She buys 2 more.", "3+2=5", "#### 5", "<think2>"))).tokenize(TOK);
    assertArrayEquals(c.context(0), new Prompt.Turn(List.of(), "Ann has 3 apples.", "<think2>").ids(TOK));
    assertArrayEquals(c.context(1), new Prompt.Turn(List.of(new Prompt.Exchange("Ann has 3 apples.", "#### 3")),
        "She buys 2 more.", "<think2>").ids(TOK));
  }

  @Test
  void anEarlierTurnWithoutAnAnswerShowsOnlyItsEos() {
    Prompt.Turn second = new Prompt.Turn(List.of(new Prompt.Exchange("Ann has 3 apples.", "")), "She eats one.", null);
    int[] want = concat(TOK.encodeAfterBos("Ann has 3 apples.\n"), new int[] {TOK.eosId()}, TOK.encode("She eats one.\n"));
    assertArrayEquals(want, second.ids(TOK));
  }

  private static int[] concat(int[]... parts) {
    int[] out = new int[java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum()];
    int at = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
