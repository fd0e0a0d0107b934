package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.thinkstream.app.TailCommand;
import io.thinkstream.app.TopicsCommand;
import io.thinkstream.avro.Problem;
import io.thinkstream.producers.ProblemPublisher;
import io.thinkstream.producers.SyntheticSource;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.tasks.SyntheticProblems;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The broker scenario shared by the in-process and the Testcontainers tests: create the topics,
 * publish N synthetic problems, and read back exactly those N.
 */
final class RoundTrip {
  private RoundTrip() {}

  static Map<String, Object> client(String bootstrap) {
    return Map.of("bootstrap.servers", bootstrap);
  }

  static void createTopics(String bootstrap, Topics topics) throws Exception {
    try (Admin admin = Admin.create(client(bootstrap))) {
      TopicsCommand.create(admin, topics, 3, (short) 1, new PrintWriter(System.err, true));
    }
  }

  /** Publishes {@code count} synthetic problems and returns their ids. */
  static Set<String> publish(String bootstrap, Topics topics, long count, long seed) throws Exception {
    SyntheticProblems source = new SyntheticProblems(SyntheticProblems.Settings.defaults(), seed, Clock.systemUTC());
    try (ProblemPublisher publisher = new ProblemPublisher(client(bootstrap), topics, Clock.systemUTC())) {
      ProblemPublisher.Report report = publisher.publish(new SyntheticSource(source, count), new PrintWriter(System.err, true));
      assertEquals(new ProblemPublisher.Report(count, 0), report);
    }
    Set<String> ids = new HashSet<>();
    for (long i = 0; i < count; i++) {
      ids.add(source.problem(i).getId());
    }
    return ids;
  }

  /** A record's key and decoded value. */
  record Keyed<V>(String key, V value) {}

  /** Every record of {@code topic}, from the beginning to the end offsets at the time of the call. */
  static <V> List<Keyed<V>> readAll(String bootstrap, Topic<String, V> topic) throws Exception {
    List<Keyed<V>> records = new ArrayList<>();
    TailCommand.read(client(bootstrap), topic, true, Long.MAX_VALUE, true, new PrintWriter(System.err, true), (record, value) ->
        records.add(new Keyed<>(topic.key().deserializer().deserialize(topic.name(), record.key()), value)));
    return records;
  }

  /** Asserts that {@code problems} holds exactly the problems {@code ids}, each once. */
  /** The values of every record on {@code topic}, in partition and offset order. */
  static <V> List<V> values(String bootstrap, Topic<String, V> topic) throws Exception {
    return readAll(bootstrap, topic).stream().map(Keyed::value).toList();
  }

  /** Sends {@code value} to {@code topic} through a bytes producer, encoded by the topic's own serde. */
  static <V> void send(KafkaProducer<byte[], byte[]> producer, Topic<String, V> topic, String key, V value) {
    producer.send(new ProducerRecord<>(topic.name(), key.getBytes(StandardCharsets.UTF_8),
        topic.value().serializer().serialize(topic.name(), value)));
  }

  static void assertExactly(Set<String> ids, List<Keyed<Problem>> records) {
    List<String> read = records.stream().map(r -> r.value().getId()).toList();
    assertEquals(ids.size(), read.size(), "record count");
    assertEquals(ids, new HashSet<>(read), "record ids");
    records.forEach(r -> assertEquals(r.value().getId(), r.key(), "key is the problem id"));
  }
}
