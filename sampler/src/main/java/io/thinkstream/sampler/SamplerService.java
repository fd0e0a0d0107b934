package io.thinkstream.sampler;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.Problem;
import io.thinkstream.model.SamplingParams;
import io.thinkstream.sampler.SamplerBackend.Completion;
import io.thinkstream.sampler.internal.ExploreDraft;
import io.thinkstream.sampler.internal.Ledger;
import io.thinkstream.sampler.internal.SampleDraft;
import io.thinkstream.schemas.SampleIds;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
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
  private final List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
  private final CheckpointFollower follower;
  private final Thread thread;
  private final Ledger ledger = new Ledger();
  private final ArrayDeque<SampleDraft> sampleQueue = new ArrayDeque<>();
  private final ArrayDeque<Unit> exploreQueue = new ArrayDeque<>();
  private final CountDownLatch assigned = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile boolean halting;
  private volatile Throwable failure;
  private boolean paused;

  /** One exploration completion to draw: completion {@code j} of a request. */
  private record Unit(ExploreDraft draft, int j) {}

  private SamplerService(Config config) {
    this.config = config;
    this.s = config.settings();
    this.metrics = new SamplerMetrics(config.registry());
    this.consumer = new KafkaConsumer<>(consumerProps(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.producer = new KafkaProducer<>(producerProps(config), new ByteArraySerializer(), new ByteArraySerializer());
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
      service.closeClients();
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
        if (halting) {
          crashed = true;
          return;
        }
        generateNext(params, exploreParams);
        Ledger.Ready ready = ledger.drain();
        if (!ready.isEmpty() && !commit(ready)) {
          crashed = true;
          return;
        }
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
      if (crashed) {
        // as a crash leaves them: nothing committed, the open transaction left to be aborted
        producer.close(Duration.ZERO);
        consumer.close(Duration.ZERO);
      } else {
        closeClients();
      }
    }
  }

  /**
   * Polls until a batch's worth of sequences is queued or {@code batch.wait.ms} has passed since
   * work was first seen; always polls at least once so the consumer stays in its group.
   */
  private void fill() {
    long deadline = -1;
    while (running && !halting) {
      int queued = queuedSequences();
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
      accept(consumer.poll(timeout));
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

  private int queuedSequences() {
    return sampleQueue.size() + exploreQueue.size();
  }

  private void accept(ConsumerRecords<byte[], byte[]> records) {
    for (ConsumerRecord<byte[], byte[]> r : records) {
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      if (r.topic().equals(config.topics().problems().name())) {
        acceptProblem(tp, r);
      } else {
        acceptExplore(tp, r);
      }
    }
  }

  private void acceptProblem(TopicPartition tp, ConsumerRecord<byte[], byte[]> r) {
    Problem p;
    try {
      p = config.topics().problems().value().deserializer().deserialize(r.topic(), r.value());
    } catch (RuntimeException e) {
      deadLetter(tp, r, "cannot decode Problem: " + e.getMessage());
      return;
    }
    Ledger.Entry entry = new Ledger.Entry(tp, r.offset(), s.k());
    ledger.add(entry);
    for (int i = 0; i < s.k(); i++) {
      String tag = s.strategies() == 0 ? null : PromptFormat.tag(i % s.strategies() + 1);
      sampleQueue.addLast(new SampleDraft(entry, p, tag, SampleIds.seed(s.seed(), p.getId(), i)));
    }
  }

  private void acceptExplore(TopicPartition tp, ConsumerRecord<byte[], byte[]> r) {
    ExploreRequest req;
    try {
      req = config.topics().exploreRequests().value().deserializer().deserialize(r.topic(), r.value());
    } catch (RuntimeException e) {
      deadLetter(tp, r, "cannot decode ExploreRequest: " + e.getMessage());
      return;
    }
    ExploreDraft draft = new ExploreDraft(new Ledger.Entry(tp, r.offset(), Math.max(1, req.getK())), req);
    ledger.add(draft.entry());
    if (draft.k() == 0) {
      finishExplore(draft);
    }
    for (int j = 0; j < draft.k(); j++) {
      exploreQueue.addLast(new Unit(draft, j));
    }
  }

  private void deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> r, String why) {
    Ledger.Entry entry = new Ledger.Entry(tp, r.offset(), 1);
    ledger.add(entry);
    DeadLetter letter = new DeadLetter(r.topic(), r.partition(), r.offset(), why,
        ByteBuffer.wrap(r.value() == null ? new byte[0] : r.value()), Instant.now());
    entry.output(record(config.topics().deadLetters(), r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8), letter));
    entry.finishOne();
  }

  /**
   * Generates one batch of up to {@code batch.max} sequences of one kind (problem turns or
   * explorations: they sample at different temperatures), oldest kind first.
   */
  private void generateNext(SamplingParams params, SamplingParams exploreParams) {
    if (!sampleQueue.isEmpty() && (exploreQueue.isEmpty() || sampleQueue.size() >= s.batchMax()
        || exploreQueue.size() < s.batchMax() && sampleQueue.size() >= exploreQueue.size())) {
      generateSamples(params);
    } else if (!exploreQueue.isEmpty()) {
      generateExplorations(exploreParams);
    }
  }

  private void generateSamples(SamplingParams params) {
    List<SampleDraft> drafts = new ArrayList<>();
    List<SamplerBackend.Request> requests = new ArrayList<>();
    while (!sampleQueue.isEmpty() && drafts.size() < s.batchMax()) {
      SampleDraft d = sampleQueue.pollFirst();
      drafts.add(d);
      requests.add(new SamplerBackend.Request(d.nextPrompt(), d.nextSeed()));
    }
    long start = System.currentTimeMillis();
    for (SampleDraft d : drafts) {
      if (d.starting()) {
        metrics.queueWait.record(Math.max(0, start - d.problem().getCreatedAt().toEpochMilli()), TimeUnit.MILLISECONDS);
      }
    }
    SamplerBackend.Batch batch = generate(requests, params);
    long ms = System.currentTimeMillis() - start;
    Instant now = Instant.now();
    for (int i = 0; i < drafts.size(); i++) {
      SampleDraft d = drafts.get(i);
      if (d.record(batch.policyVersion(), batch.completions().get(i), start, ms)) {
        d.entry().output(record(config.topics().samples(), d.problem().getId(), d.toSample(s.samplerId(), now)));
        d.entry().finishOne();
      } else {
        sampleQueue.addLast(d); // the next turn needs this one's answer: a later batch
      }
    }
  }

  private void generateExplorations(SamplingParams params) {
    List<Unit> units = new ArrayList<>();
    List<SamplerBackend.Request> requests = new ArrayList<>();
    while (!exploreQueue.isEmpty() && units.size() < s.batchMax()) {
      Unit u = exploreQueue.pollFirst();
      ExploreRequest r = u.draft().request();
      units.add(u);
      requests.add(new SamplerBackend.Request(new Prompt.Prefix(r.getPrefix()),
          SampleIds.seed(s.seed(), r.getSampleId() + "#" + r.getStepIndex(), u.j())));
    }
    SamplerBackend.Batch batch = generate(requests, params);
    for (int i = 0; i < units.size(); i++) {
      Unit u = units.get(i);
      u.draft().set(u.j(), batch.completions().get(i).text());
      if (u.draft().entry().finishOne()) {
        finishExplore(u.draft());
      }
    }
  }

  private void finishExplore(ExploreDraft d) {
    d.entry().output(record(config.topics().exploreResults(), d.request().getSampleId(), d.toResult()));
    if (d.k() == 0) {
      d.entry().finishOne();
    }
  }

  private SamplerBackend.Batch generate(List<SamplerBackend.Request> requests, SamplingParams params) {
    SamplerBackend.Batch batch = config.backend().generate(requests, params);
    if (batch.completions().size() != requests.size()) {
      throw new IllegalStateException("backend returned " + batch.completions().size() + " completions for "
          + requests.size() + " requests");
    }
    metrics.batchFill.record(requests.size() / (double) s.batchMax());
    metrics.tokens.increment(batch.completions().stream().mapToInt(Completion::completionTokens).sum());
    metrics.policyVersion.set(batch.policyVersion());
    return batch;
  }

  /** One transaction: the outputs, then the offsets they complete. False when halted before the commit. */
  private boolean commit(Ledger.Ready ready) {
    try {
      producer.beginTransaction();
      for (ProducerRecord<byte[], byte[]> r : ready.outputs()) {
        producer.send(r);
      }
      if (halting) {
        producer.flush(); // written to the log, never committed
        return false;
      }
      producer.sendOffsetsToTransaction(ready.offsets(), consumer.groupMetadata());
      producer.commitTransaction();
    } catch (ProducerFencedException e) {
      throw e;
    } catch (KafkaException e) {
      LOG.warn("transaction failed, aborting and redoing from the committed offsets: {}", e.toString());
      producer.abortTransaction();
      rewind();
      return true;
    }
    for (ProducerRecord<byte[], byte[]> r : ready.outputs()) {
      if (r.topic().equals(config.topics().samples().name())) {
        metrics.samples.increment();
      } else if (r.topic().equals(config.topics().exploreResults().name())) {
        metrics.exploreResults.increment();
      }
    }
    return true;
  }

  /** After an aborted transaction: forget all work and read again from the committed offsets. */
  private void rewind() {
    forget(consumer.assignment());
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

  private void forget(Collection<TopicPartition> partitions) {
    Set<TopicPartition> gone = new HashSet<>(partitions);
    ledger.drop(gone);
    sampleQueue.removeIf(d -> gone.contains(d.entry().partition()));
    exploreQueue.removeIf(u -> gone.contains(u.draft().entry().partition()));
  }

  private void updateLag() {
    long lag = 0;
    for (TopicPartition tp : consumer.assignment()) {
      lag += consumer.currentLag(tp).orElse(0);
    }
    metrics.lag.set(lag);
  }

  /** Revoked partitions are dropped between batches, when no transaction is open (poll runs this). */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      forget(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      forget(partitions);
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

  private static <V> ProducerRecord<byte[], byte[]> record(Topic<String, V> topic, String key, V value) {
    return new ProducerRecord<>(topic.name(), topic.key().serializer().serialize(topic.name(), key),
        topic.value().serializer().serialize(topic.name(), value));
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
    closeFollower();
  }

  /**
   * Stops as a crash would, for recovery drills and tests: at the next commit point the batch's
   * records are written but their transaction is never committed, and the clients close with it
   * open. A successor redoes that batch.
   */
  public void halt() {
    halting = true;
    join();
    closeFollower();
  }

  private void join() {
    try {
      thread.join(60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeFollower() {
    if (follower != null) {
      follower.close();
    }
    clientMetrics.forEach(KafkaClientMetrics::close);
  }

  private void closeClients() {
    try {
      producer.close(Duration.ofSeconds(10));
    } finally {
      consumer.close(Duration.ofSeconds(10));
    }
  }

  @Override
  public void close() {
    stop();
  }
}
