package io.thinkstream.sampler.internal;

import io.thinkstream.avro.FollowUp;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import io.thinkstream.avro.SampledTurn;
import io.thinkstream.sampler.Prompt;
import io.thinkstream.sampler.SamplerBackend.Completion;
import io.thinkstream.schemas.SampleIds;
import io.thinkstream.schemas.text.PromptFormat;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One sample of a problem, generated turn by turn: turn t+1 needs turn t's answer, so each turn
 * is a sequence of its own batch. Every turn must come from one policy version; a reload between
 * turns starts the sample over under the new version (its id names one version).
 */
public final class SampleDraft {
  private record Turn(String question, PromptFormat.Completion text, double sumLogProb, int promptTokens,
      int completionTokens) {}

  private final Ledger.Entry entry;
  private final Problem problem;
  private final String tag;
  private final long seed;
  private final List<Turn> turns = new ArrayList<>();
  private long version = -1;
  private long startedAt = -1;
  private long generateMs;

  /** Sample {@code index} of {@code problem} under tag {@code tag} (null = untagged). */
  public SampleDraft(Ledger.Entry entry, Problem problem, String tag, long seed) {
    this.entry = entry;
    this.problem = problem;
    this.tag = tag;
    this.seed = seed;
  }

  public Ledger.Entry entry() {
    return entry;
  }

  public Problem problem() {
    return problem;
  }

  /** Whether the next turn is the first, i.e. the sample has not started generating. */
  public boolean starting() {
    return turns.isEmpty();
  }

  /** The context of the next turn: earlier questions and answers, never their reasoning. */
  public Prompt nextPrompt() {
    List<Prompt.Exchange> earlier = new ArrayList<>();
    for (Turn t : turns) {
      earlier.add(new Prompt.Exchange(t.question(), t.text().answer()));
    }
    return new Prompt.Turn(earlier, question(turns.size()), tag);
  }

  /** Turn 1 draws with the sample's seed; later turns with seeds derived from it. */
  public long nextSeed() {
    return turns.isEmpty() ? seed : SampleIds.seed(seed, problem.getId() + "#turn", turns.size() + 1);
  }

  /**
   * Records the next turn, made by policy {@code version} in a batch that started at
   * {@code batchStart} (epoch ms) and took {@code batchMs}; returns true when every turn is done.
   */
  public boolean record(long version, Completion c, long batchStart, long batchMs) {
    if (!turns.isEmpty() && version != this.version) {
      turns.clear(); // the policy changed between turns: start over, all turns by one version
      generateMs = 0;
    }
    if (turns.isEmpty()) {
      this.version = version;
      this.startedAt = batchStart;
    }
    generateMs += batchMs;
    turns.add(new Turn(question(turns.size()), PromptFormat.split(c.text()), c.sumLogProb(), c.promptTokens(),
        c.completionTokens()));
    return turns.size() == turns(problem);
  }

  private String question(int turn) {
    return turn == 0 ? problem.getQuestion() : problem.getFollowUps().get(turn - 1).getQuestion();
  }

  public Sample toSample(String samplerId, Instant now) {
    Turn first = turns.get(0);
    List<SampledTurn> followUps = new ArrayList<>();
    for (Turn t : turns.subList(1, turns.size())) {
      followUps.add(new SampledTurn(t.question(), t.text().steps(), t.text().answer(), t.sumLogProb(), t.promptTokens(),
          t.completionTokens()));
    }
    long queuedMs = Math.max(0, startedAt - problem.getCreatedAt().toEpochMilli());
    return Sample.newBuilder()
        .setSampleId(SampleIds.of(problem.getId(), version, tag, seed))
        .setProblemId(problem.getId())
        .setPolicyVersion(version)
        .setStrategy(tag)
        .setPrompt(PromptFormat.prompt(problem.getQuestion(), tag))
        .setSteps(first.text().steps())
        .setAnswer(first.text().answer())
        .setSumLogProb(first.sumLogProb())
        .setSeed(seed)
        .setSamplerId(samplerId)
        .setTimings(new SampleTimings(queuedMs, generateMs, first.promptTokens(), first.completionTokens()))
        .setCreatedAt(now)
        .setFollowUps(followUps)
        .build();
  }

  /** The problem's turns, for counting: the question and its follow-ups. */
  public static int turns(Problem p) {
    List<FollowUp> f = p.getFollowUps();
    return 1 + (f == null ? 0 : f.size());
  }
}
