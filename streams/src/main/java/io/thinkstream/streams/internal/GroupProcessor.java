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
 * rewards) keyed as each output topic expects. Each sample is stored once under its own key
 * (problemId, NUL, position) next to a small header, so a group of K costs K writes rather than
 * K rewrites of a growing list.
 */
public final class GroupProcessor implements Processor<String, GradedSample, String, SpecificRecord> {
  /** Turns a closed group into output records (key, value); one instance per task, as it may hold that task's stores. */
  public interface Builder extends Function<List<GradedSample>, List<KeyValue<String, SpecificRecord>>> {
    default void init(ProcessorContext<?, ?> context) {}
  }

  private final String storeName;
  private final String samplesStoreName;
  private final int expectedK;
  private final Duration timeout;
  private final List<Builder> builders;
  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, SampleGroup> groups;
  private KeyValueStore<String, GradedSample> samples;

  public GroupProcessor(String storeName, String samplesStoreName, int expectedK, Duration timeout,
      List<Builder> builders) {
    this.storeName = storeName;
    this.samplesStoreName = samplesStoreName;
    this.expectedK = expectedK;
    this.timeout = timeout;
    this.builders = List.copyOf(builders);
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.groups = context.getStateStore(storeName);
    this.samples = context.getStateStore(samplesStoreName);
    builders.forEach(b -> b.init(context));
    Duration every = timeout.dividedBy(4).compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1)
        : timeout.dividedBy(4).isZero() ? Duration.ofMillis(1) : timeout.dividedBy(4);
    context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::closeExpired);
  }

  @Override
  public void process(Record<String, GradedSample> record) {
    String problemId = record.value().getProblemId();
    SampleGroup group = groups.get(problemId);
    if (group == null) {
      group = new SampleGroup(problemId, context.currentSystemTimeMs(), 0);
    }
    samples.put(sampleKey(problemId, group.getSize()), record.value());
    group.setSize(group.getSize() + 1);
    if (group.getSize() >= expectedK) {
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
      emit(group, now);
    }
  }

  /** Closes the group: removes it from the stores and forwards what the builders make of it. */
  private void emit(SampleGroup group, long timestamp) {
    String problemId = group.getProblemId();
    List<GradedSample> members = new ArrayList<>(group.getSize());
    for (int i = 0; i < group.getSize(); i++) {
      GradedSample sample = samples.delete(sampleKey(problemId, i));
      if (sample != null) {
        members.add(sample);
      }
    }
    groups.delete(problemId);
    for (Builder builder : builders) {
      for (KeyValue<String, SpecificRecord> out : builder.apply(members)) {
        context.forward(new Record<>(out.key, out.value, timestamp));
      }
    }
  }

  private static String sampleKey(String problemId, int position) {
    return problemId + '\u0000' + position;
  }
}
