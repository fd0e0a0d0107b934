package io.thinkstream.streams.internal;

import io.thinkstream.avro.DeadLetter;
import io.thinkstream.streams.avro.GradedSample;
import io.thinkstream.streams.avro.JudgeGroup;
import io.thinkstream.streams.avro.SampleGroup;
import io.thinkstream.schemas.AvroSerde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
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
 * Collects the graded samples of each (problem, policy version) until K have arrived, or until the
 * group timeout passes (a wall-clock punctuator closes groups whose stragglers never came), then
 * hands the group to the pair builders and forwards what they make (SFT examples, preference
 * pairs) keyed as each output topic expects; with a judge, it also sends the group's responses to
 * the judge worker ({@code judge-requests}) and the group itself to the processor that closes it
 * from the judge's answer. Samples of two policy versions never share a group: pairs and z-scores
 * compare one policy's samples. Each sample is stored once under its own key (group key, NUL,
 * position) next to a small header, so a group of K costs K writes rather than K rewrites of a
 * growing list. The group's state is deleted only once its outputs are made; when a builder throws,
 * every sample of the group goes to the dead letters with the reason.
 */
public final class GroupProcessor implements Processor<String, GradedSample, String, SpecificRecord> {
  private static final Logger LOG = LoggerFactory.getLogger(GroupProcessor.class);
  private static final AvroSerde<GradedSample> GRADED = StoreSchemas.serde(GradedSample.class);

  /** Turns a closed group into output records (key, value); one instance per task, as it may hold that task's stores. */
  public interface Builder extends Function<List<GradedSample>, List<KeyValue<String, SpecificRecord>>> {
    default void init(ProcessorContext<?, ?> context) {}
  }

  private final String storeName;
  private final String samplesStoreName;
  private final String samplesTopic;
  private final int expectedK;
  private final Duration timeout;
  private final List<Builder> builders;
  private final Optional<JudgePairs> judge;
  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, SampleGroup> groups;
  private KeyValueStore<String, GradedSample> samples;

  public GroupProcessor(String storeName, String samplesStoreName, String samplesTopic, int expectedK,
      Duration timeout, List<Builder> builders, Optional<JudgePairs> judge) {
    this.storeName = storeName;
    this.samplesStoreName = samplesStoreName;
    this.samplesTopic = samplesTopic;
    this.expectedK = expectedK;
    this.timeout = timeout;
    this.builders = List.copyOf(builders);
    this.judge = judge;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.groups = context.getStateStore(storeName);
    this.samples = context.getStateStore(samplesStoreName);
    builders.forEach(b -> b.init(context));
    context.schedule(Punctuators.every(timeout), PunctuationType.WALL_CLOCK_TIME, this::closeExpired);
  }

  @Override
  public void process(Record<String, GradedSample> record) {
    GradedSample sample = record.value();
    String key = Groups.key(sample.getProblemId(), sample.getPolicyVersion());
    SampleGroup group = groups.get(key);
    if (group == null) {
      group = new SampleGroup(sample.getProblemId(), context.currentSystemTimeMs(), 0, sample.getPolicyVersion(),
          sample.getSampleId());
    }
    samples.put(sampleKey(key, group.getSize()), sample);
    group.setSize(group.getSize() + 1);
    if (group.getSize() >= expectedK) {
      close(key, group, record.timestamp());
    } else {
      groups.put(key, group);
    }
  }

  private void closeExpired(long now) {
    List<KeyValue<String, SampleGroup>> expired = new ArrayList<>();
    try (KeyValueIterator<String, SampleGroup> all = groups.all()) {
      while (all.hasNext()) {
        KeyValue<String, SampleGroup> entry = all.next();
        if (now - entry.value.getOpenedAtMs() >= timeout.toMillis()) {
          expired.add(entry);
        }
      }
    }
    for (KeyValue<String, SampleGroup> entry : expired) {
      close(entry.key, entry.value, now);
    }
  }

  /** Makes the group's outputs, forwards them, and only then removes the group from the stores. */
  private void close(String key, SampleGroup group, long timestamp) {
    List<GradedSample> members = new ArrayList<>(group.getSize());
    for (int i = 0; i < group.getSize(); i++) {
      GradedSample sample = samples.get(sampleKey(key, i));
      if (sample != null) {
        members.add(sample);
      }
    }
    String groupId = Groups.id(group.getProblemId(), group.getPolicyVersion(),
        group.getFirstSampleId().isEmpty() ? key : group.getFirstSampleId());
    List<KeyValue<String, SpecificRecord>> out = new ArrayList<>();
    try {
      for (Builder builder : builders) {
        out.addAll(builder.apply(members));
      }
      if (judge.isPresent() && !members.isEmpty()) {
        long now = context.currentSystemTimeMs();
        out.add(KeyValue.pair(groupId, judge.get().request(groupId, members, now)));
        out.add(KeyValue.pair(groupId, new JudgeGroup(groupId, members, now)));
      }
    } catch (RuntimeException e) {
      LOG.warn("group {} of {} samples failed: {}", groupId, members.size(), e.toString(), e);
      out = deadLetters(groupId, members, "group " + groupId + " of " + members.size() + " samples failed in "
          + "its pair builders: " + DeadLetters.reason(e));
    }
    for (KeyValue<String, SpecificRecord> kv : out) {
      context.forward(new Record<>(kv.key, kv.value, timestamp));
    }
    // put(key, null) deletes like delete(key) but does not read and decode the old value to return it
    for (int i = 0; i < group.getSize(); i++) {
      samples.put(sampleKey(key, i), null);
    }
    groups.put(key, null);
  }

  /** One dead letter per sample of a failed group, keyed by its problem like the samples topic. */
  List<KeyValue<String, SpecificRecord>> deadLetters(String groupId, List<GradedSample> members, String reason) {
    int partition = context.recordMetadata().map(m -> m.partition()).orElse(context.taskId().partition());
    List<KeyValue<String, SpecificRecord>> letters = new ArrayList<>();
    for (GradedSample member : members) {
      DeadLetter letter = DeadLetters.of(samplesTopic, partition, -1, reason, GRADED.encode(member));
      letters.add(KeyValue.pair(member.getProblemId(), letter));
    }
    return letters;
  }

  private static String sampleKey(String groupKey, int position) {
    return groupKey + '\u0000' + position;
  }
}
