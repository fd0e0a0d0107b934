package io.thinkstream.model.multiturn;

import io.thinkstream.avro.Problem;
import io.thinkstream.tasks.FollowUps;
import io.thinkstream.tasks.SyntheticProblems;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Multi-turn arithmetic conversations whose later questions build on earlier answers: a synthetic
 * word problem first, then {@link FollowUps} such as "Now subtract 7 from that." Every turn's reasoning
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
    this.problems = new SyntheticProblems(settings, seed, Clock.systemUTC());
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
      FollowUps.Turn next = FollowUps.next(rnd, value);
      out.add(turn(rnd, next.question(), next.reasoning(), next.answer()));
      value = next.answer();
    }
    return new Conversation("synthetic-" + seed + "-" + index, out);
  }

  private Conversation.Turn turn(SplittableRandom rnd, String human, String reasoning, long answer) {
    boolean think = rnd.nextDouble() < reasoningShare;
    return new Conversation.Turn(human, think ? reasoning : "", "The answer is " + answer + ".");
  }
}
