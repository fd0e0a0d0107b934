package io.thinkstream.streams.internal;

import io.thinkstream.streams.avro.GradedSample;
import io.thinkstream.streams.avro.SampleGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Collects the graded samples of each problem until K have arrived, or until the group timeout
 * passes (a wall-clock punctuator closes groups whose stragglers never came), then hands the
 * group to the pair builders and forwards what they make (SFT examples, preference pairs,
 * rewards) keyed as each output topic expects.
 */
public final class GroupProcessor implements Processor<String, GradedSample, String, SpecificRecord> {
  /** Turns a closed group into output records (key, value). */
  public interface Builder extends Function<List<GradedSample>, List<KeyValue<String, SpecificRecord>>> {}

  private final String storeName;
  private final int expectedK;
  private final Duration timeout;
  private final List<Builder> builders;
  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, SampleGroup> groups;

  public GroupProcessor(String storeName, int expectedK, Duration timeout, List<Builder> builders) {
    this.storeName = storeName;
    this.expectedK = expectedK;
    this.timeout = timeout;
    this.builders = List.copyOf(builders);
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.groups = context.getStateStore(storeName);
    Duration every = timeout.dividedBy(4).compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1)
        : timeout.dividedBy(4).isZero() ? Duration.ofMillis(1) : timeout.dividedBy(4);
    context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::closeExpired);
  }

  @Override
  public void process(Record<String, GradedSample> record) {
    String problemId = record.value().getProblemId();
    SampleGroup group = groups.get(problemId);
    if (group == null) {
      group = new SampleGroup(problemId, context.currentSystemTimeMs(), new ArrayList<>());
    }
    group.getSamples().add(record.value());
    if (group.getSamples().size() >= expectedK) {
      groups.delete(problemId);
      emit(group, record.timestamp());
    } else {
      groups.put(problemId, group);
    }
  }

  private void closeExpired(long now) {
    List<SampleGroup> expired = new ArrayList<>();
    try (KeyValueIterator<String, SampleGroup> all = groups.all()) {
      while (all.hasNext()) {
        SampleGroup group = all.next().value;
        if (now - group.getOpenedAtMs() >= timeout.toMillis()) {
          expired.add(group);
        }
      }
    }
    for (SampleGroup group : expired) {
      groups.delete(group.getProblemId());
      emit(group, now);
    }
  }

  private void emit(SampleGroup group, long timestamp) {
    for (Builder builder : builders) {
      for (KeyValue<String, SpecificRecord> out : builder.apply(group.getSamples())) {
        context.forward(new Record<>(out.key, out.value, timestamp));
      }
    }
  }
}
