package io.thinkstream.streams.internal;

import io.thinkstream.avro.DeadLetter;
import io.thinkstream.schemas.AvroSerde;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends every record that cannot be decoded or fails processing to the dead-letter topic as a
 * {@link DeadLetter} (source topic, partition, offset, reason, raw bytes) and lets the application
 * carry on. The dead letter is produced by Kafka Streams itself, inside the same transaction as the
 * task's other output, so under exactly_once_v2 a poison record is reported exactly once.
 * Configured through the streams properties with {@link #TOPIC_CONFIG}.
 *
 * <p>The global thread (the checkpoints store) cannot produce: Kafka Streams fails with a
 * ClassCastException when a handler returns records there, and a dead global thread stops the
 * whole instance. A record of a {@link #GLOBAL_TOPICS_CONFIG} topic that cannot be decoded is
 * therefore skipped with a warning (its topic, partition and offset) instead. (The processing
 * handler is never called there: a global processor's exception stops the global thread, so the
 * global store's writer skips bad records itself, see {@code StoreWriter.global}.)
 *
 * <p>An output that cannot be encoded — above all one too large to produce ({@link OutputLimit}) —
 * becomes a dead letter naming the topic it was for, holding its first bytes, and the task goes
 * on. A failed send keeps Kafka Streams' answer (fail): under exactly-once the producer has
 * aborted the transaction by then, and the task restarts from its last commit.
 */
public final class DeadLetters implements DeserializationExceptionHandler, ProcessingExceptionHandler,
    ProductionExceptionHandler {
  /** Streams property naming the dead-letter topic. */
  public static final String TOPIC_CONFIG = "thinkstream.dead.letters.topic";
  /** Streams property: comma-separated topics read by global stores, whose bad records are skipped and logged. */
  public static final String GLOBAL_TOPICS_CONFIG = "thinkstream.dead.letters.global.topics";
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);
  private static final AvroSerde<DeadLetter> SERDE = AvroSerde.of(DeadLetter.class);
  /** Reasons are for people; a stack trace belongs in the log. */
  private static final int MAX_REASON = 2000;

  private String topic;
  private java.util.Set<String> globalTopics = java.util.Set.of();

  @Override
  public void configure(Map<String, ?> configs) {
    topic = Objects.requireNonNull((String) configs.get(TOPIC_CONFIG), TOPIC_CONFIG + " must be set");
    Object global = configs.get(GLOBAL_TOPICS_CONFIG);
    if (global != null && !global.toString().isBlank()) {
      globalTopics = java.util.Set.of(global.toString().split(","));
    }
  }

  @Override
  public DeserializationExceptionHandler.Response handleError(ErrorHandlerContext context,
      ConsumerRecord<byte[], byte[]> record, Exception exception) {
    if (globalTopics.contains(record.topic())) {
      LOG.warn("skipped an undecodable record of global topic {}-{}@{} (a global store has no dead-letter path): {}",
          record.topic(), record.partition(), record.offset(), reason(exception));
      return DeserializationExceptionHandler.Response.resume(List.of());
    }
    return DeserializationExceptionHandler.Response.resume(letter(context, record.key(), record.value(),
        "cannot decode: " + reason(exception)));
  }

  @Override
  public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record,
      Exception exception) {
    return ProcessingExceptionHandler.Response.resume(letter(context, context.sourceRawKey(),
        context.sourceRawValue(), "failed in " + context.processorNodeId() + ": " + reason(exception)));
  }

  @Override
  public ProductionExceptionHandler.Response handleSerializationError(ErrorHandlerContext context,
      @SuppressWarnings("rawtypes") ProducerRecord record, Exception exception, SerializationExceptionOrigin origin) {
    byte[] excerpt = exception instanceof OutputLimit.TooLarge tooLarge ? tooLarge.excerpt() : new byte[0];
    Object key = record.key();
    byte[] rawKey = key instanceof String k ? k.getBytes(StandardCharsets.UTF_8)
        : key instanceof byte[] b ? b : null;
    return ProductionExceptionHandler.Response.resume(letter(context, rawKey, excerpt,
        "cannot produce to " + record.topic() + " (" + origin.name().toLowerCase() + "): " + reason(exception)));
  }

  private List<ProducerRecord<byte[], byte[]>> letter(ErrorHandlerContext context, byte[] key, byte[] value,
      String reason) {
    LOG.warn("dead letter from {}-{}@{}: {}", context.topic(), context.partition(), context.offset(), reason);
    DeadLetter letter = of(context.topic() == null ? "" : context.topic(), context.partition(), context.offset(),
        reason, value);
    return List.of(new ProducerRecord<>(topic, key, SERDE.encode(letter)));
  }

  /**
   * A dead letter that a processor forwards itself, for what fails outside of {@code process}
   * (punctuators: samples whose problem never came, groups whose pair builder threw).
   */
  public static DeadLetter of(String topic, int partition, long offset, String reason, byte[] raw) {
    return DeadLetter.newBuilder()
        .setTopic(topic)
        .setPartition(partition)
        .setOffset(offset)
        .setError(reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) + "..." : reason)
        .setRaw(ByteBuffer.wrap(raw == null ? new byte[0] : raw))
        .setCreatedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
        .build();
  }

  /** The reason of a failure, as a dead letter states it. */
  public static String reason(Exception e) {
    String message = e.getClass().getSimpleName() + ": " + e.getMessage();
    return message.length() > MAX_REASON ? message.substring(0, MAX_REASON) + "..." : message;
  }

}
