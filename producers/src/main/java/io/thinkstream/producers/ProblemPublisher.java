package io.thinkstream.producers;

import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.Problem;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes problems to the {@code problems} topic and rejected inputs to {@code dead-letters}.
 * The producer is idempotent with acks=all, and {@link #publish} returns only after every record
 * was acknowledged, so a successful run has lost nothing.
 */
public final class ProblemPublisher implements AutoCloseable {
  private final Topics topics;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Clock clock;
  private final int maxRequestSize;

  /** What one run of {@link #publish} did. */
  public record Report(long produced, long rejected) {}

  public ProblemPublisher(Map<String, Object> producerConfig, Topics topics, Clock clock) {
    Map<String, Object> config = new HashMap<>(producerConfig);
    config.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    config.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    config.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    this.producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    Object maxRequest = config.getOrDefault(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1 << 20);
    this.maxRequestSize = Integer.parseInt(String.valueOf(maxRequest));
    this.topics = topics;
    this.clock = clock;
  }

  /**
   * Sends every item of {@code source}; rejected items are reported on {@code log} with their
   * position and reason and go to dead-letters. Progress is printed at most once a second.
   */
  public Report publish(ProblemSource source, PrintWriter log) throws IOException {
    AtomicLong produced = new AtomicLong();
    AtomicLong rejected = new AtomicLong();
    AtomicReference<Exception> failure = new AtomicReference<>();
    long expected = source.expectedCount();
    long lastPrint = System.nanoTime();
    long seen = 0;
    try (Stream<ProblemSource.Item> items = source.items()) {
      for (var it = items.iterator(); it.hasNext(); ) {
        ProblemSource.Item item = it.next();
        if (item instanceof ProblemSource.Item.Good good) {
          send(topics.problems(), good.problem().getId(), good.problem(), (md, e) -> {
            if (e != null) {
              failure.compareAndSet(null, e);
            } else {
              produced.incrementAndGet();
            }
          });
        } else if (item instanceof ProblemSource.Item.Rejected bad) {
          rejected.incrementAndGet();
          log.printf("%s line %d: %s%n", bad.origin(), bad.position(), bad.reason());
          DeadLetter letter = deadLetter(bad);
          send(topics.deadLetters(), bad.origin() + ":" + bad.position(), letter, (md, e) -> {
            if (e != null) {
              failure.compareAndSet(null, e);
            }
          });
        }
        seen++;
        if (failure.get() != null) {
          break;
        }
        if (System.nanoTime() - lastPrint > 1_000_000_000L) {
          lastPrint = System.nanoTime();
          log.printf("%s: %d%s read, %d produced, %d rejected%n", source.name(), seen,
              expected >= 0 ? "/" + expected : "", produced.get(), rejected.get());
        }
      }
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
    producer.flush();
    log.flush();
    if (failure.get() != null) {
      throw new IOException("producing to Kafka failed after " + produced.get() + " records: "
          + failure.get().getMessage(), failure.get());
    }
    return new Report(produced.get(), rejected.get());
  }

  /** The producer's {@code max.request.size}: no record larger than this can be produced. */
  public int maxRequestSize() {
    return maxRequestSize;
  }

  /**
   * Sends one record to {@code topic} and waits at most {@code timeout} for its acknowledgement;
   * a {@link java.util.concurrent.TimeoutException} means Kafka is slow, not that the record is bad.
   */
  public <V> RecordMetadata sendAndWait(Topic<String, V> topic, String key, V value, java.time.Duration timeout)
      throws IOException, java.util.concurrent.TimeoutException {
    Future<RecordMetadata> future = send(topic, key, value, null);
    try {
      return future.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for Kafka", e);
    } catch (ExecutionException e) {
      throw new IOException("Kafka rejected the record: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** Sends one problem and waits for its acknowledgement. */
  public RecordMetadata send(Problem problem) throws IOException {
    return await(send(topics.problems(), problem.getId(), problem, null));
  }

  /** Sends one record to {@code topic} and waits for its acknowledgement. */
  public <V> RecordMetadata sendAndWait(Topic<String, V> topic, String key, V value) throws IOException {
    return await(send(topic, key, value, null));
  }

  private <V> Future<RecordMetadata> send(Topic<String, V> topic, String key, V value,
      org.apache.kafka.clients.producer.Callback callback) {
    byte[] k = topic.key().serializer().serialize(topic.name(), key);
    byte[] v = topic.value().serializer().serialize(topic.name(), value);
    return producer.send(new ProducerRecord<>(topic.name(), k, v), callback);
  }

  private static RecordMetadata await(Future<RecordMetadata> future) throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for Kafka", e);
    } catch (ExecutionException e) {
      throw new IOException("Kafka rejected the record: " + e.getCause().getMessage(), e.getCause());
    }
  }

  private DeadLetter deadLetter(ProblemSource.Item.Rejected bad) {
    return DeadLetter.newBuilder()
        .setTopic(bad.origin())
        .setPartition(-1)
        .setOffset(bad.position())
        .setError(bad.reason())
        .setRaw(ByteBuffer.wrap(bad.raw()))
        .setCreatedAt(clock.instant())
        .build();
  }

  /** The underlying producer, for binding its client metrics (e.g. Micrometer's KafkaClientMetrics). */
  public Producer<byte[], byte[]> producer() {
    return producer;
  }

  @Override
  public void close() {
    producer.close();
  }
}
