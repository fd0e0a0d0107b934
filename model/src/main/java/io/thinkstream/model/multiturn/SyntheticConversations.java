package io.thinkstream.model.multiturn;

import io.thinkstream.avro.Problem;
import io.thinkstream.producers.SyntheticProblems;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Multi-turn arithmetic conversations whose later questions build on earlier answers: a synthetic
 * word problem first, then follow-ups such as "Now subtract 7 from that." Every turn's reasoning
 * is step-by-step with GSM8K calculator annotations and its answer is "The answer is N."; a turn
 * keeps its reasoning with probability {@code reasoningShare}. The same seed gives the same data.
 */
public final class SyntheticConversations {
  private final SyntheticProblems problems;
  private final long seed;
  private final double reasoningShare;

  public SyntheticConversations(SyntheticProblems.Settings settings, long seed, double reasoningShare) {
    if (reasoningShare < 0 || reasoningShare > 1) {
      throw new IllegalArgumentException("reasoning share must be in [0, 1], got " + reasoningShare);
    }
    this.problems = new SyntheticProblems(settings, seed, Long.MAX_VALUE, Clock.systemUTC());
    this.seed = seed;
    this.reasoningShare = reasoningShare;
  }

  /** {@code n} conversations of exactly {@code turns} turns each. */
  public List<Conversation> take(int n, int turns) {
    if (turns < 1) {
      throw new IllegalArgumentException("a conversation needs at least one turn, got " + turns);
    }
    List<Conversation> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(conversation(i, turns));
    }
    return out;
  }

  /** Conversation {@code index}: a function of the seed and the index only. */
  public Conversation conversation(long index, int turns) {
    SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + index);
    Problem p = problems.problem(index);
    String solution = p.getSolutions().get(0).getText();
    String steps = solution.substring(0, solution.lastIndexOf("####")).strip();
    long value = Long.parseLong(p.getGoldAnswer());
    List<Conversation.Turn> out = new ArrayList<>(turns);
    out.add(turn(rnd, p.getQuestion(), steps, value));
    for (int t = 1; t < turns; t++) {
      long k;
      String ask;
      String expr;
      long next;
      int op = rnd.nextInt(4);
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
      out.add(turn(rnd, ask, "We had " + value + ". " + expr + "=<<" + expr + "=" + next + ">>" + next + ".", next));
      value = next;
    }
    return new Conversation("synthetic-" + seed + "-" + index, out);
  }

  private Conversation.Turn turn(SplittableRandom rnd, String human, String reasoning, long answer) {
    boolean think = rnd.nextDouble() < reasoningShare;
    return new Conversation.Turn(human, think ? reasoning : "", "The answer is " + answer + ".");
  }
}
