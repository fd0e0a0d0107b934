package io.thinkstream.streams.internal;

import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampledTurn;
import io.thinkstream.avro.Solution;
import io.thinkstream.schemas.AvroSerde;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.streams.avro.GradedSample;
import io.thinkstream.streams.avro.GradedTurn;
import io.thinkstream.streams.avro.WaitingSample;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Grades a sample against its problem's gold answer. Problems and samples are both keyed by
 * problemId, so the problem is read from a local store fed by the problems topic (a stream-table
 * lookup without a repartition). Problems and samples arrive on different topics, so a sample of
 * a problem the store has not seen yet waits in a store of its own — at most {@code maxWaiting}
 * per task, at most {@code wait} long — and is graded once its problem arrives, or goes to the dead
 * letters with the reason. A problem without a gold answer (unlabelled production traffic) is
 * graded as unlabelled: no OUTCOME reward, no outcome pair, but the judge sees it.
 *
 * <p>A multi-turn sample is correct only when it answered every turn of its problem and each
 * turn's answer verifies against that turn's gold; the verdict says how each turn fared. A turn
 * without a gold answer leaves the whole sample unlabelled.
 */
public final class VerifyProcessor implements Processor<String, Sample, String, SpecificRecord> {
  private final String problemsStore;
  private final String waitingStore;
  private final AvroSerde<Sample> samples;
  private final Duration wait;
  private final long maxWaiting;
  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, Problem> problems;
  private KeyValueStore<String, WaitingSample> waiting;

  public VerifyProcessor(String problemsStore, String waitingStore, AvroSerde<Sample> samples, Duration wait,
      long maxWaiting) {
    this.problemsStore = problemsStore;
    this.waitingStore = waitingStore;
    this.samples = samples;
    this.wait = wait;
    this.maxWaiting = maxWaiting;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.problems = context.getStateStore(problemsStore);
    this.waiting = context.getStateStore(waitingStore);
    context.schedule(Punctuators.every(wait), PunctuationType.WALL_CLOCK_TIME, this::releaseOrExpire);
  }

  @Override
  public void process(Record<String, Sample> record) {
    Sample s = record.value();
    Problem problem = problems.get(s.getProblemId());
    if (problem != null) {
      context.forward(record.withKey(s.getProblemId()).withValue(grade(s, problem)));
      return;
    }
    long count = waiting.approximateNumEntries();
    if (count >= maxWaiting) {
      throw new IllegalStateException("sample " + s.getSampleId() + " is of problem '" + s.getProblemId()
          + "', which is not on the problems topic, and " + count + " samples already wait for theirs"
          + " (problem.wait.max)");
    }
    RecordMetadata from = context.recordMetadata().orElseThrow();
    waiting.put(waitingKey(s), new WaitingSample(ByteBuffer.wrap(samples.encode(s)), from.topic(), from.partition(),
        from.offset(), context.currentSystemTimeMs()));
  }

  /** Grades the waiting samples whose problem has come; dead-letters those that waited too long. */
  private void releaseOrExpire(long now) {
    List<KeyValue<String, WaitingSample>> done = new ArrayList<>();
    try (KeyValueIterator<String, WaitingSample> all = waiting.all()) {
      while (all.hasNext()) {
        KeyValue<String, WaitingSample> e = all.next();
        String problemId = e.key.substring(0, e.key.indexOf('\u0000'));
        if (problems.get(problemId) != null || now - e.value.getWaitingSinceMs() >= wait.toMillis()) {
          done.add(e);
        }
      }
    }
    for (KeyValue<String, WaitingSample> e : done) {
      waiting.delete(e.key);
      WaitingSample w = e.value;
      byte[] raw = bytes(w.getSample());
      Sample s = samples.decode(raw);
      Problem problem = problems.get(s.getProblemId());
      SpecificRecord out = problem != null ? grade(s, problem) : DeadLetters.of(w.getTopic(), w.getPartition(),
          w.getOffset(), "sample " + s.getSampleId() + " is of problem '" + s.getProblemId()
              + "', which is not on the problems topic after " + wait.toMillis() + " ms (problem.wait.ms)", raw);
      context.forward(new Record<>(s.getProblemId(), out, now));
    }
  }

  private GradedSample grade(Sample s, Problem problem) {
    Optional<String> gold = gold(problem);
    GradedSample.Builder graded = GradedSample.newBuilder()
        .setSampleId(s.getSampleId())
        .setProblemId(s.getProblemId())
        .setPolicyVersion(s.getPolicyVersion())
        .setStrategy(s.getStrategy())
        .setPrompt(s.getPrompt())
        .setSteps(s.getSteps())
        .setAnswer(s.getAnswer())
        .setGoldSolution(problem.getSolutions().isEmpty() ? null : problem.getSolutions().get(0).getText())
        .setArrivedAtMs(context.currentSystemTimeMs())
        .setFollowUps(s.getFollowUps().stream()
            .map(t -> new GradedTurn(t.getQuestion(), t.getSteps(), t.getAnswer())).toList());
    boolean laterTurnsLabelled = problem.getFollowUps().stream()
        .allMatch(f -> f.getGoldAnswer() != null && !f.getGoldAnswer().isBlank());
    if (gold.isEmpty() || !laterTurnsLabelled) {
      return graded.setCorrect(false).setGold(null).setVerdict(Map.of("labelled", "false")).build();
    }
    Verifier.Verdict verdict = Verifier.verify(s.getSteps(), s.getAnswer(), gold.get());
    if (problem.getFollowUps().isEmpty() && s.getFollowUps().isEmpty()) {
      return graded.setCorrect(verdict.correct()).setGold(gold.get()).setVerdict(verdict.details()).build();
    }
    Map<String, String> details = new LinkedHashMap<>(verdict.details());
    boolean correct = verdict.correct();
    details.put("turns", String.valueOf(1 + problem.getFollowUps().size()));
    details.put("turn1.correct", String.valueOf(verdict.correct()));
    for (int i = 0; i < problem.getFollowUps().size(); i++) {
      String turn = "turn" + (i + 2);
      if (i >= s.getFollowUps().size()) {
        details.put(turn + ".correct", "false");
        details.put(turn + ".extracted", "");
        correct = false; // a turn the sample never answered
        continue;
      }
      SampledTurn t = s.getFollowUps().get(i);
      Verifier.Verdict v = Verifier.verify(t.getSteps(), t.getAnswer(), problem.getFollowUps().get(i).getGoldAnswer());
      details.put(turn + ".correct", String.valueOf(v.correct()));
      details.put(turn + ".extracted", v.answer().text());
      correct &= v.correct();
    }
    if (s.getFollowUps().size() != problem.getFollowUps().size()) {
      details.put("answeredTurns", String.valueOf(1 + s.getFollowUps().size()));
      correct = false;
    }
    return graded.setCorrect(correct).setGold(gold.get()).setVerdict(details).build();
  }

  private static String waitingKey(Sample s) {
    return s.getProblemId() + '\u0000' + s.getSampleId();
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
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
