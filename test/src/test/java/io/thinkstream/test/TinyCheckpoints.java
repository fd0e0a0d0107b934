package io.thinkstream.test;

import ai.djl.ndarray.types.DataType;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.OffsetRange;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Tiny random-weight checkpoints (ModelConfig.tiny, the built-in tokenizer with two strategy
 * tags) written with {@link Checkpoints#save} and announced on {@code checkpoints} as the trainer
 * will: key = version, sha256 of the weights, consumed offset ranges.
 */
final class TinyCheckpoints {
  private TinyCheckpoints() {}

  /** Writes version {@code version}'s weights under {@code root} and returns its event. */
  static Checkpoint write(Path root, long version, List<OffsetRange> consumed) throws IOException {
    SyntheticTokenizer tok = new SyntheticTokenizer(2);
    Path dir = root.resolve("v" + version);
    try (Transformer model = Transformer.init(ModelConfig.tiny(tok.vocabSize()), Transformer.defaultDevice(), DataType.FLOAT32, version)) {
      Checkpoints.Written written = Checkpoints.save(model, tok, dir);
      return Checkpoint.newBuilder().setVersion(version).setParent(version > 1 ? version - 1 : null).setUri(dir.toString())
          .setSha256(written.sha256()).setConsumedOffsets(consumed).setTrainMetrics(Map.of("loss", 1.0 / version))
          .setCreatedAt(Instant.now()).build();
    }
  }

  static void publish(String bootstrap, Topics topics, Checkpoint... checkpoints) {
    Topic<String, Checkpoint> topic = topics.checkpoints();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(bootstrap),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (Checkpoint c : checkpoints) {
        producer.send(new ProducerRecord<>(topic.name(), Topics.checkpointKey(c.getVersion()).getBytes(StandardCharsets.UTF_8),
            topic.value().serializer().serialize(topic.name(), c)));
      }
      producer.flush();
    }
  }
}
