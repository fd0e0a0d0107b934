package io.thinkstream.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.thinkstream.schemas.AvroJson;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Prints a topic's records as JSON lines, like kcat but decoding thinkstream's Avro. */
@Command(name = "tail", mixinStandardHelpOptions = true,
    description = "Print a topic's records as JSON lines (one value per line; --meta adds partition, offset, key).")
public final class TailCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Parameters(paramLabel = "TOPIC", description = "A topic of the loop, e.g. problems, samples, dead-letters.")
  String topicName;

  @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
  String bootstrap;

  @Option(names = "--from-beginning", description = "Start at the oldest record instead of the end.")
  boolean fromBeginning;

  @Option(names = "--max", description = "Stop after N records.")
  Long max;

  @Option(names = {"-e", "--exit-at-end"}, description = "Stop once the end of every partition is reached.")
  boolean exitAtEnd;

  @Option(names = "--meta", description = "Wrap each value with its partition, offset, key and timestamp.")
  boolean meta;

  TailCommand() {}

  @Override
  public Integer call() throws IOException {
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap));
    Topic<String, ?> topic = resolve(cfg, topicName);
    long limit = max == null ? Long.MAX_VALUE : max;
    print(cfg.kafkaClient(), topic, limit);
    return 0;
  }

  private <V> void print(Map<String, Object> client, Topic<String, V> topic, long limit) throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    read(client, topic, fromBeginning, limit, exitAtEnd, spec.commandLine().getErr(), (record, value) -> {
      try {
        out.println(JSON.writeValueAsString(meta ? envelope(record, topic, value) : AvroJson.toJson(value)));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    });
    out.flush();
  }

  /** The topic named {@code name}, given with or without the configured prefix. */
  static Topic<String, ?> resolve(ThinkstreamConfig cfg, String name) {
    Topics topics = cfg.topics();
    return topics.byName(name)
        .or(() -> topics.byName(cfg.getString(ThinkstreamConfig.TOPIC_PREFIX) + name))
        .orElseThrow(() -> new IllegalArgumentException("unknown topic '" + name + "'; topics: "
            + topics.all().stream().map(Topic::name).toList()));
  }

  /**
   * Reads {@code topic} from the beginning or the end, handing each decoded value to {@code handler},
   * until {@code max} records, or (with {@code exitAtEnd}) the end offsets, are reached.
   * Undecodable records are reported on {@code err} with their position. Returns the count handled.
   */
  public static <V> long read(Map<String, Object> client, Topic<String, V> topic, boolean fromBeginning, long max,
      boolean exitAtEnd, PrintWriter err, BiConsumer<ConsumerRecord<byte[], byte[]>, V> handler) throws IOException {
    Map<String, Object> props = new HashMap<>(client);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    long printed = 0;
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic.name(), Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new IOException("topic '" + topic.name() + "' does not exist; run 'thinkstream topics create' first");
      }
      List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      if (fromBeginning) {
        consumer.seekToBeginning(partitions);
      } else {
        consumer.seekToEnd(partitions);
      }
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (printed < max) {
        if (exitAtEnd && partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp))) {
          break;
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (printed >= max) {
            break;
          }
          try {
            V value = topic.value().deserializer().deserialize(topic.name(), record.value());
            handler.accept(record, value);
            printed++;
          } catch (SerializationException e) {
            err.printf("%s-%d@%d: undecodable record: %s%n", record.topic(), record.partition(), record.offset(),
                e.getMessage());
          }
        }
      }
    }
    return printed;
  }

  private static ObjectNode envelope(ConsumerRecord<byte[], byte[]> record, Topic<String, ?> topic, Object value) {
    ObjectNode node = JSON.createObjectNode();
    node.put("topic", record.topic()).put("partition", record.partition()).put("offset", record.offset())
        .put("timestamp", record.timestamp())
        .put("key", record.key() == null ? null : topic.key().deserializer().deserialize(record.topic(), record.key()));
    node.set("value", AvroJson.toJson(value));
    return node;
  }
}
