package io.thinkstream.sampler;

import io.thinkstream.avro.Checkpoint;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.schemas.Topic;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot reload: follows the {@code checkpoints} topic on its own thread (its own consumer, every
 * partition, from the beginning, no group) and swaps a newer version into the {@link LivePolicy}.
 * The weights are loaded here, off the sampling thread; the sampler picks the new version up at
 * its next batch. A checkpoint is used only after its weights' sha256 matches the one its event
 * names; an unreadable, corrupt or mismatched one is refused and the current version kept.
 */
public final class CheckpointFollower implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointFollower.class);

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Topic<String, Checkpoint> topic;
  private final LivePolicy policy;
  private final SamplerMetrics metrics;
  private final Thread thread;
  private volatile boolean running = true;
  private long newestSeen = Long.MIN_VALUE;

  private CheckpointFollower(KafkaConsumer<byte[], byte[]> consumer, Topic<String, Checkpoint> topic, LivePolicy policy,
      SamplerMetrics metrics) {
    this.consumer = consumer;
    this.topic = topic;
    this.policy = policy;
    this.metrics = metrics;
    this.thread = new Thread(this::run, "sampler-checkpoints");
    this.thread.setDaemon(true);
  }

  /**
   * Reads the checkpoints published so far and loads the newest when it is later than the current
   * version (so the first batch already runs it), then follows new ones in the background.
   */
  public static CheckpointFollower start(Map<String, Object> client, Topic<String, Checkpoint> topic, LivePolicy policy,
      SamplerMetrics metrics) {
    Map<String, Object> props = new HashMap<>(client);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "sampler-checkpoints-" + System.identityHashCode(policy));
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    CheckpointFollower follower = new CheckpointFollower(consumer, topic, policy, metrics);
    try {
      List<PartitionInfo> infos = consumer.partitionsFor(topic.name(), Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalArgumentException("topic '" + topic.name() + "' does not exist; run 'thinkstream topics create' first");
      }
      List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      // read_committed stops short of the end while a transaction is open: catch up for a while at most
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
        follower.handle(consumer.poll(Duration.ofMillis(200)));
      }
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
    follower.thread.start();
    return follower;
  }

  private void run() {
    try {
      while (running) {
        handle(consumer.poll(Duration.ofMillis(500)));
      }
    } catch (WakeupException e) {
      // stop() woke the poll
    } catch (RuntimeException e) {
      LOG.error("checkpoint follower failed; the sampler keeps serving policy v{}", policy.version(), e);
    } finally {
      consumer.close();
    }
  }

  /** Only the newest event of a poll is tried: older ones would be replaced at once anyway. */
  private void handle(Iterable<ConsumerRecord<byte[], byte[]>> records) {
    Checkpoint newest = null;
    for (ConsumerRecord<byte[], byte[]> r : records) {
      try {
        Checkpoint c = topic.value().deserializer().deserialize(topic.name(), r.value());
        if (c.getVersion() > newestSeen && (newest == null || c.getVersion() > newest.getVersion())) {
          newest = c;
        }
      } catch (RuntimeException e) {
        LOG.warn("refusing undecodable checkpoint event {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
        metrics.refused.increment();
      }
    }
    if (newest == null) {
      return;
    }
    newestSeen = newest.getVersion();
    if (newest.getVersion() <= policy.version()) {
      return;
    }
    Optional<LivePolicy.Version> loaded = load(newest);
    if (loaded.isPresent()) {
      policy.swap(loaded.get());
      metrics.reloads.increment();
      metrics.policyVersion.set(newest.getVersion());
      LOG.info("policy v{} loaded from {}; the next batch runs it", newest.getVersion(), newest.getUri());
    }
  }

  private Optional<LivePolicy.Version> load(Checkpoint c) {
    try {
      Path dir = dir(c.getUri());
      Path weights = dir.resolve(Checkpoints.WEIGHTS);
      if (!Files.isRegularFile(weights)) {
        return refuse(c, weights + " does not exist");
      }
      String have = Checkpoints.sha256(weights);
      if (!have.equalsIgnoreCase(c.getSha256())) {
        return refuse(c, weights + " has sha256 " + have + " but the event names " + c.getSha256());
      }
      return Optional.of(LivePolicy.load(dir, c.getVersion()));
    } catch (RuntimeException e) {
      return refuse(c, e.toString());
    }
  }

  private Optional<LivePolicy.Version> refuse(Checkpoint c, String why) {
    LOG.warn("refusing checkpoint v{} ({}): {}; still serving policy v{}", c.getVersion(), c.getUri(), why, policy.version());
    metrics.refused.increment();
    return Optional.empty();
  }

  /** A checkpoint uri is a directory path or a {@code file:} URI. */
  static Path dir(String uri) {
    return uri.startsWith("file:") ? Path.of(URI.create(uri)) : Path.of(uri);
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
