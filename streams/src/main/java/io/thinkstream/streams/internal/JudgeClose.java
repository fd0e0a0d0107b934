package io.thinkstream.streams.internal;

import io.thinkstream.avro.JudgeResult;
import io.thinkstream.schemas.AvroSerde;
import io.thinkstream.streams.avro.GradedSample;
import io.thinkstream.streams.avro.JudgeGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes judged groups from the judge worker's answers, so that no judge call runs inside a
 * Streams transaction. Both inputs are keyed by groupId — the groups waiting for a judge (through
 * the {@code judge-by-group} repartition topic) and {@code judge-results} — and whichever of the two
 * comes second closes the group into JUDGE rewards and the JUDGE pair. A group whose result never
 * comes is closed without JUDGE pairs after the judge timeout, and a result whose group is gone (a
 * duplicate from a restarted worker, or one after the timeout) is dropped after it: both are
 * counted, neither is retried, so nothing loops.
 */
public final class JudgeClose {
  private static final Logger LOG = LoggerFactory.getLogger(JudgeClose.class);
  private static final AvroSerde<GradedSample> GRADED = StoreSchemas.serde(GradedSample.class);

  private JudgeClose() {}

  /** State and closing shared by both inputs; one per processor instance, as stores are per task. */
  private abstract static class Base<V> implements Processor<String, V, String, SpecificRecord> {
    final String groupsStore;
    final String resultsStore;
    final JudgePairs pairs;
    final String samplesTopic;
    ProcessorContext<String, SpecificRecord> context;
    KeyValueStore<String, JudgeGroup> groups;
    KeyValueStore<String, JudgeResult> results;

    Base(String groupsStore, String resultsStore, JudgePairs pairs, String samplesTopic) {
      this.groupsStore = groupsStore;
      this.resultsStore = resultsStore;
      this.pairs = pairs;
      this.samplesTopic = samplesTopic;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
      this.context = context;
      this.groups = context.getStateStore(groupsStore);
      this.results = context.getStateStore(resultsStore);
    }

    /** Forwards the group's JUDGE rewards and pair, or sends the whole group to the dead letters. */
    void close(JudgeGroup group, JudgeResult result, long timestamp) {
      List<KeyValue<String, SpecificRecord>> out;
      try {
        out = pairs.apply(group.getSamples(), result);
      } catch (RuntimeException e) {
        LOG.warn("judged group {} failed: {}", group.getGroupId(), e.toString(), e);
        out = new ArrayList<>();
        String reason = "judged group " + group.getGroupId() + " of " + group.getSamples().size()
            + " samples failed: " + DeadLetters.reason(e);
        for (var member : group.getSamples()) {
          out.add(KeyValue.pair(member.getProblemId(), DeadLetters.of(samplesTopic,
              context.taskId().partition(), -1, reason, GRADED.encode(member))));
        }
      }
      for (KeyValue<String, SpecificRecord> kv : out) {
        context.forward(new Record<>(kv.key, kv.value, timestamp));
      }
      groups.delete(group.getGroupId());
      results.delete(group.getGroupId());
    }
  }

  /** A group waiting for its judge result; evicts groups and stray results past the timeout. */
  public static final class Pending extends Base<JudgeGroup> {
    private final Duration timeout;
    private Counter timedOut;
    private Counter strayResults;

    public Pending(String groupsStore, String resultsStore, JudgePairs pairs, String samplesTopic, Duration timeout) {
      super(groupsStore, resultsStore, pairs, samplesTopic);
      this.timeout = timeout;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
      super.init(context);
      timedOut = new Counter(context, "judge-timed-out");
      strayResults = new Counter(context, "judge-result-stray");
      context.schedule(Punctuators.sweep(timeout), PunctuationType.WALL_CLOCK_TIME, this::evict);
    }

    @Override
    public void process(Record<String, JudgeGroup> record) {
      JudgeGroup group = record.value();
      JudgeResult early = results.get(group.getGroupId());
      if (early != null) {
        close(group, early, record.timestamp());
      } else if (groups.get(group.getGroupId()) == null) {
        groups.put(group.getGroupId(), group);
      }
    }

    private void evict(long now) {
      List<String> expired = new ArrayList<>();
      try (KeyValueIterator<String, JudgeGroup> all = groups.all()) {
        while (all.hasNext()) {
          KeyValue<String, JudgeGroup> e = all.next();
          if (now - e.value.getSentAtMs() >= timeout.toMillis()) {
            expired.add(e.key);
          }
        }
      }
      for (String id : expired) {
        LOG.warn("no judge result for group {} after {} ms: closed without JUDGE pairs", id, timeout.toMillis());
        groups.delete(id);
        timedOut.increment();
      }
      List<String> stray = new ArrayList<>();
      try (KeyValueIterator<String, JudgeResult> all = results.all()) {
        while (all.hasNext()) {
          KeyValue<String, JudgeResult> e = all.next();
          if (now - e.value.getCreatedAt().toEpochMilli() >= timeout.toMillis()) {
            stray.add(e.key);
          }
        }
      }
      for (String id : stray) {
        results.delete(id);
        strayResults.increment();
      }
    }
  }

  /** A judge result: closes its group, or waits (bounded by the timeout) for the group to arrive. */
  public static final class Result extends Base<JudgeResult> {
    public Result(String groupsStore, String resultsStore, JudgePairs pairs, String samplesTopic) {
      super(groupsStore, resultsStore, pairs, samplesTopic);
    }

    @Override
    public void process(Record<String, JudgeResult> record) {
      JudgeResult result = record.value();
      JudgeGroup group = groups.get(result.getGroupId());
      if (group != null) {
        close(group, result, record.timestamp());
      } else if (results.get(result.getGroupId()) == null) {
        // the group may still be on its way through the repartition topic; or this is a duplicate
        results.put(result.getGroupId(), result);
      }
    }
  }
}
