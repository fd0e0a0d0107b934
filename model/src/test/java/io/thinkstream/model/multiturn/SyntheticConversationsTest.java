package io.thinkstream.model.multiturn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.schemas.gsm8k.Arithmetic;
import io.thinkstream.tasks.SyntheticProblems;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SyntheticConversationsTest {
  static final Pattern ANSWER = Pattern.compile("The answer is (-?\\d+)\\.");
  static final Pattern CALC = Pattern.compile("<<([^=]+)=([^>]+)>>");

  @Test
  void laterTurnsBuildOnTheEarlierAnswerAndEveryStepChecks() {
    SyntheticConversations gen = new SyntheticConversations(SyntheticProblems.Settings.defaults(), 3, 1.0);
    List<Conversation> convs = gen.take(200, 6);
    for (Conversation c : convs) {
      assertEquals(6, c.turns().size());
      long previous = Long.MIN_VALUE;
      for (int t = 0; t < c.turns().size(); t++) {
        Conversation.Turn turn = c.turns().get(t);
        Matcher m = ANSWER.matcher(turn.answer());
        assertTrue(m.matches(), turn.answer());
        long answer = Long.parseLong(m.group(1));
        assertTrue(turn.hasReasoning());
        Matcher calc = CALC.matcher(turn.reasoning());
        long last = Long.MIN_VALUE;
        while (calc.find()) {
          assertEquals(0, new java.math.BigDecimal(calc.group(2)).compareTo(Arithmetic.evaluate(calc.group(1))), turn.reasoning());
          last = Long.parseLong(calc.group(2));
        }
        assertEquals(answer, last, "the reasoning ends at the answer: " + turn.reasoning());
        if (t > 0) {
          assertTrue(turn.human().startsWith("Now "), turn.human());
          assertTrue(turn.reasoning().startsWith("We had " + previous + ". "), turn.reasoning());
        }
        previous = answer;
      }
    }
    assertEquals(convs, gen.take(200, 6), "same seed, same conversations");
  }

  @Test
  void theReasoningShareDecidesWhichTurnsThink() {
    List<Conversation> none = new SyntheticConversations(SyntheticProblems.Settings.defaults(), 1, 0.0).take(50, 4);
    assertTrue(none.stream().flatMap(c -> c.turns().stream()).noneMatch(Conversation.Turn::hasReasoning));
    long half = new SyntheticConversations(SyntheticProblems.Settings.defaults(), 1, 0.5).take(200, 4).stream()
        .flatMap(c -> c.turns().stream()).filter(Conversation.Turn::hasReasoning).count();
    assertTrue(half > 300 && half < 500, half + " of 800 turns think");
  }
}
