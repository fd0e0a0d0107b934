package io.thinkstream.streams.internal;

import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A size bound on what the application produces. Outputs can outgrow their inputs: a pair holds
 * two completions, a judged group all K samples. A record larger than the producer's
 * {@code max.request.size} fails inside {@code send}, and under exactly-once that failure aborts
 * the whole transaction, whatever the production handler answers: the application stops, and
 * stops again on the same input after every restart. So the serializer refuses such a record
 * first, with {@link TooLarge}; Kafka Streams hands serialization failures to
 * {@link DeadLetters}, which records the reason and the record's first bytes in the dead letters
 * and lets the task go on, before anything reached the producer.
 */
public final class OutputLimit {
  /** How much of a refused record its dead letter keeps. */
  static final int EXCERPT_BYTES = 16 * 1024;

  private OutputLimit() {}

  /** A record refused for its size, with its first bytes. */
  public static final class TooLarge extends SerializationException {
    private final byte[] excerpt;

    TooLarge(String topic, int bytes, int max, byte[] excerpt) {
      super("record too large for " + topic + ": " + bytes + " bytes encoded, rewards.max.output.bytes is " + max);
      this.excerpt = excerpt;
    }

    /** The record's first bytes (at most {@link #EXCERPT_BYTES}). */
    public byte[] excerpt() {
      return excerpt.clone();
    }
  }

  /** {@code serde} whose serializer refuses encodings over {@code maxBytes}; deserialization is unchanged. */
  public static <V> Serde<V> bounded(Serde<V> serde, int maxBytes) {
    Serializer<V> inner = serde.serializer();
    Serializer<V> bounded = new Serializer<>() {
      @Override
      public void configure(Map<String, ?> configs, boolean isKey) {
        inner.configure(configs, isKey);
      }

      @Override
      public byte[] serialize(String topic, V value) {
        return check(topic, inner.serialize(topic, value), maxBytes);
      }

      @Override
      public byte[] serialize(String topic, Headers headers, V value) {
        return check(topic, inner.serialize(topic, headers, value), maxBytes);
      }

      @Override
      public void close() {
        inner.close();
      }
    };
    return Serdes.serdeFrom(bounded, serde.deserializer());
  }

  private static byte[] check(String topic, byte[] bytes, int maxBytes) {
    if (bytes != null && bytes.length > maxBytes) {
      throw new TooLarge(topic, bytes.length, maxBytes, Arrays.copyOf(bytes, Math.min(bytes.length, EXCERPT_BYTES)));
    }
    return bytes;
  }
}
