package io.thinkstream.trainer;

import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.SftExample;
import io.thinkstream.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * What trained a checkpoint: every record in its manifest's offset ranges, read back from the
 * retained topics, with its pair or sample ids, problem and policy version, and whether it was
 * trained (a duplicate or unreadable record is consumed but not trained). {@code thinkstream
 * lineage VERSION} prints these as JSON lines, or counts with {@code --summary}.
 */
public final class Lineage {
  /** One consumed record. {@code step} is the step that trained it, 0 when it was skipped. */
  public record Entry(long version, String topic, int partition, long offset, String objective, String id,
      String problemId, long policyVersion, List<String> sourceSampleIds, boolean trained, long step) {}

  private Lineage() {}

  public static List<Entry> of(Manifest m, Topics topics, Map<String, Object> kafka) {
    Map<String, Long> trainedAt = new HashMap<>();
    for (Manifest.Step s : m.steps()) {
      for (Manifest.Record r : s.records()) {
        trainedAt.put(r.topic() + "/" + r.partition() + "/" + r.offset(), s.step());
      }
    }
    List<Entry> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = consumer(kafka)) {
      for (Manifest.Range range : m.offsets()) {
        TopicPartition tp = new TopicPartition(range.topic(), range.partition());
        for (ConsumerRecord<String, byte[]> r : read(consumer, tp, range.start(), range.end())) {
          Long step = trainedAt.get(r.topic() + "/" + r.partition() + "/" + r.offset());
          out.add(entry(m.version(), r, topics, step));
        }
      }
    }
    return out;
  }

  private static Entry entry(long version, ConsumerRecord<String, byte[]> r, Topics topics, Long step) {
    boolean trained = step != null;
    long at = trained ? step : 0;
    try {
      if (r.topic().equals(topics.preferences().name())) {
        PreferencePair p = topics.preferences().value().deserializer().deserialize(r.topic(), r.value());
        return new Entry(version, r.topic(), r.partition(), r.offset(), p.getKind().toString().toLowerCase(java.util.Locale.ROOT),
            p.getPairId(), p.getProblemId(), p.getPolicyVersion(), List.copyOf(p.getSourceSampleIds()), trained, at);
      }
      SftExample e = topics.sftExamples().value().deserializer().deserialize(r.topic(), r.value());
      String objective = e.getFollowUps().isEmpty() ? "sft" : "multiturn"; // as Item.objective names it
      return new Entry(version, r.topic(), r.partition(), r.offset(), objective, e.getSampleId(), e.getProblemId(),
          e.getPolicyVersion(), List.of(e.getSampleId()), trained, at);
    } catch (RuntimeException ex) {
      return new Entry(version, r.topic(), r.partition(), r.offset(), "poison", null, null, -1, List.of(), false, 0);
    }
  }

  /** Counts by kind, by policy version and by problem source (read from the problems topic). */
  public static Map<String, Map<String, Long>> summary(List<Entry> entries, Topics topics, Map<String, Object> kafka) {
    Map<String, String> sources = new HashMap<>();
    try (KafkaConsumer<String, byte[]> consumer = consumer(kafka)) {
      for (TopicPartition tp : partitions(consumer, topics.problems().name())) {
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        for (ConsumerRecord<String, byte[]> r : read(consumer, tp, 0, end)) {
          try {
            Problem p = topics.problems().value().deserializer().deserialize(r.topic(), r.value());
            sources.put(p.getId(), p.getSource());
          } catch (RuntimeException ignored) {
            // an unreadable problem has no source to report
          }
        }
      }
    }
    Map<String, Map<String, Long>> out = new LinkedHashMap<>();
    for (Entry e : entries) {
      if (!e.trained()) {
        out.computeIfAbsent("skipped", k -> new TreeMap<>()).merge(e.objective(), 1L, Long::sum);
        continue;
      }
      out.computeIfAbsent("kind", k -> new TreeMap<>()).merge(e.objective(), 1L, Long::sum);
      out.computeIfAbsent("policy_version", k -> new TreeMap<>()).merge(String.valueOf(e.policyVersion()), 1L, Long::sum);
      out.computeIfAbsent("problem_source", k -> new TreeMap<>())
          .merge(sources.getOrDefault(e.problemId(), "unknown"), 1L, Long::sum);
    }
    return out;
  }

  private static List<TopicPartition> partitions(KafkaConsumer<String, byte[]> consumer, String topic) {
    var infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
    return infos == null ? List.of() : infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
  }

  private static List<ConsumerRecord<String, byte[]>> read(KafkaConsumer<String, byte[]> consumer, TopicPartition tp,
      long start, long end) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    if (start >= end) {
      return out;
    }
    consumer.assign(List.of(tp));
    consumer.seek(tp, start);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (consumer.position(tp) < end) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("could not read " + tp + " up to offset " + end + " (at " + consumer.position(tp)
            + "): is the topic retained?");
      }
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (r.offset() < end) {
          out.add(r);
        }
      }
    }
    return out;
  }

  private static KafkaConsumer<String, byte[]> consumer(Map<String, Object> kafka) {
    Map<String, Object> c = new LinkedHashMap<>(kafka);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    return new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
  }
}
