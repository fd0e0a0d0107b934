package io.thinkstream.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.FollowUp;
import io.thinkstream.avro.Problem;
import io.thinkstream.schemas.gsm8k.Arithmetic;
import io.thinkstream.tasks.SyntheticProblems.Settings;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class FollowUpsTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);
  private static final Pattern NUMBER = Pattern.compile("-?\\d+");

  @Test
  void everyFollowUpsAnswerIsItsAnnotatedStep() {
    SplittableRandom rnd = new SplittableRandom(5);
    long value = 24;
    for (int i = 0; i < 2000; i++) {
      FollowUps.Turn turn = FollowUps.next(rnd, value);
      Matcher m = Pattern.compile("<<([^=]+)=(\\d+)>>").matcher(turn.reasoning());
      assertTrue(m.find(), turn.reasoning());
      assertEquals(0, Arithmetic.evaluate(m.group(1)).compareTo(BigDecimal.valueOf(turn.answer())), turn.reasoning());
      assertEquals(String.valueOf(turn.answer()), m.group(2));
      assertTrue(turn.answer() >= 1, turn.toString());
      value = turn.answer() > 100_000 ? 24 : turn.answer();
    }
  }

  @Test
  void aShareOfProblemsBecomesMultiTurnAndTheFirstTurnIsUnchanged() {
    SyntheticProblems single = new SyntheticProblems(Settings.defaults(), 9, CLOCK);
    SyntheticProblems multi = single.withFollowUps(3, 0.5);
    int multiTurn = 0;
    for (int i = 0; i < 400; i++) {
      Problem a = single.problem(i);
      Problem b = multi.problem(i);
      assertEquals(a.getQuestion(), b.getQuestion());
      assertEquals(a.getGoldAnswer(), b.getGoldAnswer());
      assertEquals(b, multi.problem(i), "a function of seed and index");
      assertTrue(a.getFollowUps().isEmpty());
      if (!b.getFollowUps().isEmpty()) {
        multiTurn++;
        assertTrue(b.getFollowUps().size() <= 3);
        assertEquals(String.valueOf(b.getFollowUps().size() + 1), b.getMetadata().get("turns"));
        long value = Long.parseLong(b.getGoldAnswer());
        for (FollowUp f : b.getFollowUps()) {
          Matcher m = NUMBER.matcher(f.getQuestion());
          assertTrue(m.find(), f.getQuestion());
          long k = Long.parseLong(m.group());
          String q = f.getQuestion();
          long expected = q.startsWith("Now add") ? value + k : q.startsWith("Now subtract") ? value - k
              : q.startsWith("Now multiply") ? value * k : value / k;
          assertEquals(String.valueOf(expected), f.getGoldAnswer(), q);
          value = expected;
        }
      }
    }
    assertTrue(multiTurn > 150 && multiTurn < 250, "about half are multi-turn: " + multiTurn);
  }

  @Test
  void badKnobsAreRefusedWithTheirValues() {
    SyntheticProblems p = new SyntheticProblems(Settings.defaults(), 1, CLOCK);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.withFollowUps(17, 0.5)).getMessage().contains("17"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.withFollowUps(2, 1.5)).getMessage().contains("1.5"));
  }
}
