package io.thinkstream.streams.internal;

import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.Solution;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.streams.avro.GradedSample;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Grades a sample against its problem's gold answer. Problems and samples are both keyed by
 * problemId, so the problem is read from a local store fed by the problems topic (a stream-table
 * lookup without a repartition). A sample of an unknown problem is an error and goes to the
 * dead letters; a problem without a gold answer (unlabelled traffic) is left to the judges.
 */
public final class VerifyProcessor implements FixedKeyProcessor<String, Sample, GradedSample> {
  private final String problemsStore;
  private FixedKeyProcessorContext<String, GradedSample> context;
  private KeyValueStore<String, Problem> problems;

  public VerifyProcessor(String problemsStore) {
    this.problemsStore = problemsStore;
  }

  @Override
  public void init(FixedKeyProcessorContext<String, GradedSample> context) {
    this.context = context;
    this.problems = context.getStateStore(problemsStore);
  }

  @Override
  public void process(FixedKeyRecord<String, Sample> record) {
    Sample s = record.value();
    Problem problem = problems.get(s.getProblemId());
    if (problem == null) {
      throw new IllegalStateException("sample " + s.getSampleId() + " is of problem '" + s.getProblemId()
          + "', which is not on the problems topic");
    }
    Optional<String> gold = gold(problem);
    if (gold.isEmpty()) {
      return;
    }
    Verifier.Verdict verdict = Verifier.verify(s.getSteps(), s.getAnswer(), gold.get());
    GradedSample graded = GradedSample.newBuilder()
        .setSampleId(s.getSampleId())
        .setProblemId(s.getProblemId())
        .setPolicyVersion(s.getPolicyVersion())
        .setStrategy(s.getStrategy())
        .setPrompt(s.getPrompt())
        .setSteps(s.getSteps())
        .setAnswer(s.getAnswer())
        .setCorrect(verdict.correct())
        .setGold(gold.get())
        .setVerdict(verdict.details())
        .setGoldSolution(problem.getSolutions().isEmpty() ? null : problem.getSolutions().get(0).getText())
        .setArrivedAtMs(context.currentSystemTimeMs())
        .build();
    context.forward(record.withValue(graded));
  }

  /** The problem's gold answer, or the final answer of its first reference solution. */
  static Optional<String> gold(Problem problem) {
    if (problem.getGoldAnswer() != null && !problem.getGoldAnswer().isBlank()) {
      return Optional.of(problem.getGoldAnswer());
    }
    for (Solution solution : problem.getSolutions()) {
      Optional<String> fin = Gsm8kSolution.parse(solution.getText()).finalAnswer();
      if (fin.isPresent()) {
        return fin;
      }
    }
    return Optional.empty();
  }
}
