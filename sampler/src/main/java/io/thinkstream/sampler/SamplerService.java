package io.thinkstream.sampler;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.thinkstream.model.SamplingParams;
import io.thinkstream.sampler.internal.Committer;
import io.thinkstream.sampler.internal.Ledger;
import io.thinkstream.schemas.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sampler service ({@code thinkstream sampler}): consumes {@code problems} and
 * {@code explore-requests}, generates in batches that mix sequences of many records, and produces
 * {@code samples} and {@code explore-results}, exactly once: each batch's outputs and the input
 * offsets they complete are one Kafka transaction ({@code sendOffsetsToTransaction} with the
 * group's metadata, so a sampler that lost its partitions is fenced). Ids and seeds are functions
 * of the input, so whatever was not committed is redone with the same ids.
 *
 * <p>One thread polls, generates and commits; the consumer keeps fetching in the background while
 * a batch generates, and between batches the poll returns what has arrived. No transaction is
 * open while polling, so a rebalance (which runs inside poll) simply forgets the revoked
 * partitions' unfinished records: nothing of theirs was committed, and their next owner redoes
 * them from the committed offset.
 */
public final class SamplerService implements AutoCloseable {
  /** What the service needs: Kafka, topics, settings, a backend, and where metrics and progress go. */
  public record Config(String bootstrapServers, Topics topics, SamplerConfig.Settings settings, SamplerBackend backend,
      Optional<LivePolicy> reloads, MeterRegistry registry, Optional<PrintWriter> progress, Map<String, Object> extra) {
    public Config {
      Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      Objects.requireNonNull(topics, "topics");
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(backend, "backend");
      Objects.requireNonNull(reloads, "reloads");
      Objects.requireNonNull(registry, "registry");
      Objects.requireNonNull(progress, "progress");
      extra = Map.copyOf(extra);
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(SamplerService.class);
  private static final Duration IDLE_POLL = Duration.ofMillis(100);

  private final Config config;
  private final SamplerConfig.Settings s;
  private final SamplerMetrics metrics;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Committer committer;
  private final List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
  private final CheckpointFollower follower;
  private final Thread thread;
  private final Batches batches;
  private final CountDownLatch assigned = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile boolean halting;
  private volatile Throwable failure;
  private boolean paused;
  private boolean rewound;

  private SamplerService(Config config) {
    this.config = config;
    this.s = config.settings();
    this.metrics = new SamplerMetrics(config.registry());
    this.batches = new Batches(config.topics(), s, config.backend(), metrics);
    this.consumer = new KafkaConsumer<>(consumerProps(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.producer = new KafkaProducer<>(producerProps(config), new ByteArraySerializer(), new ByteArraySerializer());
    this.committer = new Committer(producer, "sampler-commit-" + s.samplerId(), () -> halting, this::committed);
    clientMetrics.add(new KafkaClientMetrics(consumer));
    clientMetrics.add(new KafkaClientMetrics(producer));
    clientMetrics.forEach(m -> m.bindTo(config.registry()));
    this.follower = config.reloads().map(p -> {
      metrics.policyVersion.set(p.version());
      return CheckpointFollower.start(client(config), config.topics().checkpoints(), p, metrics);
    }).orElse(null);
    this.thread = new Thread(this::run, "sampler-" + s.samplerId());
  }

  /** Starts sampling; returns once the producer's transactions are initialised (fencing any predecessor). */
  public static SamplerService start(Config config) {
    SamplerService service = new SamplerService(config);
    try {
      service.producer.initTransactions();
    } catch (RuntimeException e) {
      service.committer.close();
      service.consumer.close(Duration.ZERO);
      service.closeRest();
      throw e;
    }
    service.thread.start();
    return service;
  }

  public SamplerMetrics metrics() {
    return metrics;
  }

  /** Waits until the group has assigned this sampler its first partitions. */
  public boolean awaitAssignment(Duration timeout) throws InterruptedException {
    return assigned.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Why the sampling thread stopped on its own, if it did. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(failure);
  }

  public boolean isRunning() {
    return thread.isAlive();
  }

  private void run() {
    boolean crashed = false;
    try {
      consumer.subscribe(List.of(config.topics().problems().name(), config.topics().exploreRequests().name()), new Rebalance());
      SamplingParams params = params(s.temperature());
      SamplingParams exploreParams = params(s.exploreTemperature());
      while (running) {
        fill();
        if (!settle(false)) {
          crashed = true;
          return;
        }
        batches.generateNext(params, exploreParams);
        Ledger.Ready ready = batches.drain();
        if (!ready.isEmpty()) {
          // one transaction at a time: the previous one must have ended before this one starts
          rewound = false;
          if (!settle(true)) {
            crashed = true;
            return;
          }
          if (!rewound) {
            committer.submit(ready, consumer.groupMetadata());
          }
        } else if (halting) {
          settle(true); // nothing was left to write: stop where we are
          crashed = true;
          return;
        }
        updateLag();
        metrics.maybePrint(config.progress().orElse(null), s.progressInterval().toNanos());
      }
    } catch (WakeupException e) {
      // stop() woke the poll
    } catch (ProducerFencedException e) {
      failure = e;
      LOG.error("sampler {} was fenced: another sampler runs with transactional.id {}", s.samplerId(), s.transactionalId());
    } catch (RuntimeException | Error e) {
      failure = e;
      LOG.error("sampler {} failed", s.samplerId(), e);
    } finally {
      if (!crashed) {
        try {
          crashed = !settle(true);
        } catch (RuntimeException e) {
          LOG.warn("the last transaction did not commit: {}", e.toString());
        }
      }
      // After a halt the producer closes at once with its transaction open, as a crash leaves it
      // (the successor's initTransactions aborts it); the consumer still leaves the group, without
      // committing anything, so the drill need not wait for the session timeout.
      committer.close(crashed);
      consumer.close(Duration.ofSeconds(crashed ? 5 : 10));
    }
  }

  /**
   * Takes the outcome of the transaction in flight (waiting for it when {@code block}). After an
   * abort every unfinished record is dropped and read again from the committed offsets, including
   * the batch just drained: its offsets lie beyond the aborted ones. False when halted.
   */
  private boolean settle(boolean block) {
    Optional<Committer.Outcome> outcome = block ? committer.await() : committer.poll();
    if (outcome.isEmpty()) {
      return true;
    }
    switch (outcome.get()) {
      case ABORTED -> rewind();
      case HALTED -> {
        return false;
      }
      default -> { }
    }
    return true;
  }

  /**
   * Polls until a batch's worth of sequences is queued or {@code batch.wait.ms} has passed since
   * work was first seen; always polls at least once so the consumer stays in its group.
   */
  private void fill() {
    long deadline = -1;
    while (running && !halting) {
      int queued = batches.queued();
      Duration timeout;
      if (queued >= s.batchMax()) {
        timeout = Duration.ZERO;
      } else if (queued == 0) {
        timeout = IDLE_POLL;
      } else {
        long now = System.nanoTime();
        if (deadline < 0) {
          deadline = now + s.batchWait().toNanos();
        }
        timeout = Duration.ofNanos(Math.max(0, deadline - now));
      }
      flowControl(queued);
      batches.accept(consumer.poll(timeout));
      if (queued >= s.batchMax() || (queued > 0 && System.nanoTime() >= deadline)) {
        return;
      }
      if (queued == 0) {
        updateLag();
        metrics.maybePrint(config.progress().orElse(null), s.progressInterval().toNanos());
      }
    }
  }

  /** Stops fetching while several batches are queued, so memory stays bounded; the group sees us polling. */
  private void flowControl(int queued) {
    boolean full = queued >= 4 * s.batchMax();
    if (full != paused) {
      if (full) {
        consumer.pause(consumer.assignment());
      } else {
        consumer.resume(consumer.paused());
      }
      paused = full;
    }
  }

  /** Counts what a committed transaction delivered (on the commit thread). */
  private void committed(Ledger.Ready ready) {
    for (ProducerRecord<byte[], byte[]> r : ready.outputs()) {
      if (r.topic().equals(config.topics().samples().name())) {
        metrics.samples.increment();
      } else if (r.topic().equals(config.topics().exploreResults().name())) {
        metrics.exploreResults.increment();
      }
    }
  }

  /** After an aborted transaction: forget all work and read again from the committed offsets. */
  private void rewind() {
    rewound = true;
    batches.forget(consumer.assignment());
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(consumer.assignment());
    for (TopicPartition tp : consumer.assignment()) {
      OffsetAndMetadata o = committed.get(tp);
      if (o == null) {
        consumer.seekToBeginning(List.of(tp));
      } else {
        consumer.seek(tp, o.offset());
      }
    }
  }

  private void updateLag() {
    long lag = 0;
    for (TopicPartition tp : consumer.assignment()) {
      lag += consumer.currentLag(tp).orElse(0);
    }
    metrics.lag.set(lag);
  }

  /** Runs inside poll, between batches: the transaction in flight ends first, then revoked work is dropped. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      // the transaction in flight commits offsets of these partitions: let it end while they are ours
      if (!settle(true)) {
        halting = true;
      }
      batches.forget(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      // already owned by another member: a transaction in flight for them fails, fenced by the group
      if (!settle(true)) {
        halting = true;
      }
      batches.forget(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        assigned.countDown();
      }
    }
  }

  private SamplingParams params(double temperature) {
    int eos = config.backend().eosId();
    List<Integer> stops = s.ignoreEos() || eos < 0 ? List.of() : List.of(eos);
    return new SamplingParams(temperature, s.topP(), s.topK(), s.maxNewTokens(), stops, List.of());
  }

  private static Map<String, Object> client(Config config) {
    Map<String, Object> p = new HashMap<>(config.extra());
    p.put("bootstrap.servers", config.bootstrapServers());
    return p;
  }

  private static Map<String, Object> consumerProps(Config config) {
    Map<String, Object> p = client(config);
    p.putIfAbsent(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000); // one batch of a large model can take minutes
    p.put(ConsumerConfig.GROUP_ID_CONFIG, config.settings().groupId());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "sampler-" + config.settings().samplerId() + "-consumer");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return p;
  }

  private static Map<String, Object> producerProps(Config config) {
    Map<String, Object> p = client(config);
    // Samples are 1-16 KB: larger batches than the default 16 KB wake the sender less often.
    p.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    // A transaction opens after its batch has generated and lasts one produce + commit, so a
    // short timeout is safe and frees read_committed readers soon after a crash.
    p.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "sampler-" + config.settings().samplerId() + "-producer");
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.settings().transactionalId());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return p;
  }

  /** Finishes the current batch and its transaction, then stops and closes the clients (waits up to 60 s). */
  public void stop() {
    running = false;
    consumer.wakeup();
    join();
    closeRest();
  }

  /**
   * Stops as a crash would, for recovery drills and tests: at the next commit point the batch's
   * records are written but their transaction is never committed, and the clients close with it
   * open. A successor redoes that batch.
   */
  public void halt() {
    halting = true;
    join();
    closeRest();
  }

  private void join() {
    try {
      thread.join(60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeRest() {
    if (follower != null) {
      follower.close();
    }
    clientMetrics.forEach(KafkaClientMetrics::close);
  }

  @Override
  public void close() {
    stop();
  }
}
