package io.thinkstream.tasks;

import java.util.SplittableRandom;

/**
 * Follow-up turns of a multi-turn arithmetic conversation: each asks for one more operation on the
 * previous turn's answer ("Now subtract 7 from that."), so a later turn can only be answered from
 * the earlier answers. Its reasoning is one annotated step in GSM8K's calculator format and its
 * answer is exact: divisions are only asked of values they divide, subtractions never go below 1.
 */
public final class FollowUps {
  private FollowUps() {}

  /** One follow-up: the human message, the step that solves it and the new value. */
  public record Turn(String question, String reasoning, long answer) {}

  /** The follow-up to a turn whose answer was {@code value}, drawn from {@code rnd}. */
  public static Turn next(SplittableRandom rnd, long value) {
    int op = rnd.nextInt(4);
    long k;
    String ask;
    String expr;
    long next;
    if (op == 3 && value > 1 && value % 2 == 0) {
      k = value % 3 == 0 && rnd.nextBoolean() ? 3 : 2;
      ask = "Now divide that by " + k + ".";
      expr = value + "/" + k;
      next = value / k;
    } else if (op == 2 && value <= 500) {
      k = 2 + rnd.nextInt(2);
      ask = "Now multiply that by " + k + ".";
      expr = value + "*" + k;
      next = value * k;
    } else if (op == 1 && value > 1) {
      k = 1 + rnd.nextLong(Math.min(value - 1, 20));
      ask = "Now subtract " + k + " from that.";
      expr = value + "-" + k;
      next = value - k;
    } else {
      k = 1 + rnd.nextInt(20);
      ask = "Now add " + k + " to that.";
      expr = value + "+" + k;
      next = value + k;
    }
    return new Turn(ask, "We had " + value + ". " + expr + "=<<" + expr + "=" + next + ">>" + next + ".", next);
  }
}
