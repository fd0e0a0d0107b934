package io.thinkstream.evaluator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.Evaluation;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The evaluator service ({@code thinkstream evaluator}): every {@code Checkpoint} event is loaded
 * (its sha256 checked), scored on each held-out {@link Suite} by {@link SuiteRunner}, and one
 * {@code Evaluation} per (version, suite) is published, keyed by version.
 *
 * <p>Exactly once across retries and restarts, two ways: the evaluations and the consumer
 * group's offset on {@code checkpoints} commit in one transaction, so a crash before the commit
 * re-evaluates and a crash after it does not; and at start the service reads {@code evaluations}
 * to learn which (version, suite) pairs are done, so a re-published version or a reset group
 * does not score a version twice. Every version is on the retained topic, so an evaluator started
 * late still sees each one. A checkpoint that cannot be loaded goes to dead-letters with the reason.
 */
public final class EvaluatorService implements AutoCloseable {
  /** Where Kafka is (client settings, bootstrap servers included), which topics, and what to evaluate. */
  public record Config(Map<String, Object> kafka, Topics topics, EvaluatorConfig.Settings settings, List<Suite> suites) {
    public Config {
      kafka = Map.copyOf(kafka);
      Objects.requireNonNull(topics, "topics");
      Objects.requireNonNull(settings, "settings");
      suites = List.copyOf(suites);
      if (suites.isEmpty()) {
        throw new IllegalArgumentException("the evaluator needs at least one suite");
      }
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(EvaluatorService.class);

  private final Config config;
  private final MeterRegistry registry;
  private final Clock clock;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<byte[], byte[]> producer;
  private final List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
  private final Set<String> done = ConcurrentHashMap.newKeySet();
  private final AtomicLong lastVersion = new AtomicLong(-1);
  private final CountDownLatch ready = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean running = true;
  private volatile Throwable failure;

  private EvaluatorService(Config config, MeterRegistry registry, Clock clock) {
    this.config = config;
    this.registry = registry;
    this.clock = clock;
    this.consumer = new KafkaConsumer<>(consumerConfig(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.producer = new KafkaProducer<>(producerConfig(config), new ByteArraySerializer(), new ByteArraySerializer());
    clientMetrics.add(new KafkaClientMetrics(consumer));
    clientMetrics.add(new KafkaClientMetrics(producer));
    clientMetrics.forEach(m -> m.bindTo(registry));
    registry.gauge("thinkstream.evaluator.last.version", lastVersion);
    // Registered up front so a scrape shows zeros before the first checkpoint, not missing series.
    failures().increment(0);
    config.suites().forEach(s -> evaluations(s.name()).increment(0));
    this.thread = new Thread(this::run, "evaluator");
  }

  /** Starts the service thread and returns once it has read what is already evaluated. */
  public static EvaluatorService start(Config config, MeterRegistry registry) throws InterruptedException {
    EvaluatorService service = new EvaluatorService(config, registry, Clock.systemUTC());
    service.thread.start();
    service.ready.await();
    if (service.failure != null) {
      service.stop();
      throw new IllegalStateException("the evaluator failed to start: " + service.failure.getMessage(), service.failure);
    }
    return service;
  }

  /** (version, suite) pairs with a committed evaluation, as {@code version/suite}. */
  public Set<String> done() {
    return Set.copyOf(done);
  }

  /** Whether the service thread is still running (it stops on a fatal Kafka error, e.g. being fenced). */
  public boolean isRunning() {
    return thread.isAlive();
  }

  public void stop() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(Duration.ofSeconds(60).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
  }

  private void run() {
    try {
      producer.initTransactions();
      readDone();
      consumer.subscribe(List.of(config.topics().checkpoints().name()));
    } catch (RuntimeException e) {
      failure = e;
      ready.countDown();
      closeClients();
      return;
    }
    ready.countDown();
    try {
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (!handle(record)) {
            break; // aborted: the consumer was rewound to this record
          }
        }
      }
    } catch (WakeupException e) {
      // stop() was called
    } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
      LOG.error("the evaluator cannot go on (another instance with the same transactional.id?)", e);
      failure = e;
    } catch (RuntimeException e) {
      LOG.error("the evaluator failed", e);
      failure = e;
    } finally {
      closeClients();
    }
  }

  /** Evaluates one checkpoint event and commits its evaluations with its offset; false when the transaction aborted. */
  private boolean handle(ConsumerRecord<byte[], byte[]> record) {
    Topic<String, Checkpoint> topic = config.topics().checkpoints();
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    try {
      Checkpoint checkpoint = topic.value().deserializer().deserialize(topic.name(), record.value());
      out.addAll(evaluate(checkpoint));
    } catch (RuntimeException e) {
      // a poison event or a checkpoint that cannot be loaded: record why and move on, never retry forever
      LOG.warn("checkpoint at {}-{}@{} not evaluated: {}", record.topic(), record.partition(), record.offset(), e.toString());
      failures().increment();
      out.add(deadLetter(record, e));
    }
    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
    try {
      producer.beginTransaction();
      out.forEach(producer::send);
      producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(record.offset() + 1)), consumer.groupMetadata());
      producer.commitTransaction();
    } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
      throw e;
    } catch (KafkaException e) {
      LOG.warn("transaction for checkpoint at offset {} aborted, retrying: {}", record.offset(), e.toString());
      producer.abortTransaction();
      consumer.seek(tp, record.offset());
      return false;
    }
    for (ProducerRecord<byte[], byte[]> r : out) {
      if (r.topic().equals(config.topics().evaluations().name())) {
        Evaluation e = config.topics().evaluations().value().deserializer().deserialize(r.topic(), r.value());
        done.add(key(e.getVersion(), e.getSuite()));
        evaluations(e.getSuite()).increment();
        lastVersion.accumulateAndGet(e.getVersion(), Math::max);
      }
    }
    return true;
  }

  private Counter failures() {
    return Counter.builder("thinkstream.evaluator.failures").description("Checkpoint events that could not be evaluated")
        .register(registry);
  }

  private Counter evaluations(String suite) {
    return Counter.builder("thinkstream.evaluator.evaluations").description("Evaluations published")
        .tag("suite", suite).register(registry);
  }

  /** The evaluations of the suites not yet done for this version (none when all are). */
  private List<ProducerRecord<byte[], byte[]>> evaluate(Checkpoint checkpoint) {
    List<Suite> todo = config.suites().stream().filter(s -> !done.contains(key(checkpoint.getVersion(), s.name()))).toList();
    if (todo.isEmpty()) {
      LOG.info("checkpoint {} is already evaluated on every suite", checkpoint.getVersion());
      return List.of();
    }
    Path dir = directory(checkpoint.getUri());
    Path weights = dir.resolve(Checkpoints.WEIGHTS);
    if (!Files.isRegularFile(weights)) {
      throw new IllegalArgumentException("checkpoint " + checkpoint.getVersion() + " has no " + weights);
    }
    String sha = Checkpoints.sha256(weights);
    if (!sha.equalsIgnoreCase(checkpoint.getSha256())) {
      throw new IllegalArgumentException("checkpoint " + checkpoint.getVersion() + ": " + weights + " has sha256 " + sha
          + " but the event says " + checkpoint.getSha256());
    }
    Topic<String, Evaluation> evaluations = config.topics().evaluations();
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    Tokenizer tokenizer = Checkpoints.tokenizer(dir);
    try (Transformer model = Checkpoints.load(dir, Transformer.defaultDevice())) {
      SuiteRunner runner = new SuiteRunner(model, tokenizer, config.settings());
      for (Suite suite : todo) {
        Timer.Sample timing = Timer.start(registry);
        Evaluation e = runner.run(suite, checkpoint.getVersion(), sha, clock);
        timing.stop(Timer.builder("thinkstream.evaluator.evaluation").description("Time to evaluate one checkpoint on one suite")
            .tag("suite", suite.name()).register(registry));
        LOG.info("checkpoint {} on {}: greedy pass@1 {}, maj@{} {}, pass@{} {}", e.getVersion(), e.getSuite(),
            e.getGreedyPass1(), e.getK(), e.getMajK(), e.getK(), e.getPassK());
        out.add(new ProducerRecord<>(evaluations.name(), bytes(Topics.checkpointKey(e.getVersion())),
            evaluations.value().serializer().serialize(evaluations.name(), e)));
      }
    }
    return out;
  }

  /** Reads every committed evaluation: the (version, suite) pairs that must not be evaluated again. */
  private void readDone() {
    Topic<String, Evaluation> topic = config.topics().evaluations();
    Map<String, Object> props = new HashMap<>(config.kafka());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    try (KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = reader.partitionsFor(topic.name(), Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = reader.endOffsets(partitions);
      Set<TopicPartition> open = new HashSet<>(partitions);
      open.removeIf(tp -> reader.position(tp) >= end.get(tp));
      while (!open.isEmpty()) {
        for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(500))) {
          try {
            Evaluation e = topic.value().deserializer().deserialize(topic.name(), r.value());
            done.add(key(e.getVersion(), e.getSuite()));
            lastVersion.accumulateAndGet(e.getVersion(), Math::max);
          } catch (RuntimeException ex) {
            LOG.warn("unreadable evaluation at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), ex.toString());
          }
        }
        open.removeIf(tp -> reader.position(tp) >= end.get(tp));
      }
    }
    LOG.info("{} (version, suite) evaluations already done", done.size());
  }

  private ProducerRecord<byte[], byte[]> deadLetter(ConsumerRecord<byte[], byte[]> record, Exception e) {
    Topic<String, DeadLetter> topic = config.topics().deadLetters();
    DeadLetter letter = DeadLetter.newBuilder().setTopic(record.topic()).setPartition(record.partition())
        .setOffset(record.offset()).setError("cannot evaluate: " + e.getMessage())
        .setRaw(ByteBuffer.wrap(record.value() == null ? new byte[0] : record.value())).setCreatedAt(clock.instant()).build();
    return new ProducerRecord<>(topic.name(), record.key(), topic.value().serializer().serialize(topic.name(), letter));
  }

  private void closeClients() {
    clientMetrics.forEach(KafkaClientMetrics::close);
    consumer.close(Duration.ofSeconds(5));
    producer.close(Duration.ofSeconds(5));
  }

  /** A checkpoint's {@code uri}: a {@code file:} URI or a plain path. */
  static Path directory(String uri) {
    return uri.startsWith("file:") ? Path.of(URI.create(uri)) : Path.of(uri);
  }

  static String key(long version, String suite) {
    return version + "/" + suite;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Map<String, Object> consumerConfig(Config config) {
    Map<String, Object> p = new HashMap<>(config.kafka());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, config.settings().groupId());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false); // offsets commit in the evaluations' transaction
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"); // a new evaluator scores every version ever published
    p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
    // Scoring a real model on a suite takes minutes: staying in the group must not depend on it.
    p.putIfAbsent(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 3_600_000);
    return p;
  }

  private static Map<String, Object> producerConfig(Config config) {
    Map<String, Object> p = new HashMap<>(config.kafka());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.settings().transactionalId());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return p;
  }
}
