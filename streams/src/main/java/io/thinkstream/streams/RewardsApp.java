package io.thinkstream.streams;

import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.internal.DeadLetters;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rewards service ({@code thinkstream rewards}): the {@link RewardsTopology} in a
 * {@link KafkaStreams} instance with exactly_once_v2, dead letters for undecodable and failing
 * records, and a tiny start/stop surface for the CLI, the demo and the tests.
 */
public final class RewardsApp implements AutoCloseable {
  /**
   * What the application needs: where Kafka is, which topics, the settings, and any extra Kafka
   * client or Streams properties (e.g. {@code kafka.*} pass-through from the CLI).
   */
  public record Config(String bootstrapServers, Topics topics, String applicationId, String stateDir,
      long commitIntervalMs, RewardsConfig.Settings settings, Optional<Judge> judge, Map<String, Object> extra,
      Optional<JudgeWorker.Settings> embeddedWorker, String workerGroupId) {
    public Config {
      Objects.requireNonNull(judge, "judge");
      Objects.requireNonNull(embeddedWorker, "embeddedWorker");
      Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      Objects.requireNonNull(topics, "topics");
      Objects.requireNonNull(settings, "settings");
      extra = Map.copyOf(extra);
    }

    /** From the rewards keys of {@code props} (see {@link RewardsConfig#DEF}). */
    public static Config of(String bootstrapServers, Topics topics, Map<String, ?> props, Map<String, Object> extra) {
      RewardsConfig c = new RewardsConfig(props);
      Optional<JudgeWorker.Settings> worker = c.getString(RewardsConfig.JUDGE_WORKER).equals("embedded")
          ? Optional.of(c.judgeWorker()) : Optional.empty();
      return new Config(bootstrapServers, topics, c.getString(RewardsConfig.APPLICATION_ID),
          c.getString(RewardsConfig.STATE_DIR), c.getLong(RewardsConfig.COMMIT_INTERVAL_MS), c.settings(), c.judge(),
          extra, worker, c.getString(RewardsConfig.JUDGE_WORKER_GROUP_ID));
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(RewardsApp.class);

  private final KafkaStreams streams;
  private final Optional<JudgeWorker> worker;
  private final List<Runnable> onError;

  private RewardsApp(KafkaStreams streams, Optional<JudgeWorker> worker, List<Runnable> onError) {
    this.streams = streams;
    this.worker = worker;
    this.onError = onError;
  }

  /** Builds the topology and starts it; returns at once (the streams threads run in the background). */
  public static RewardsApp start(Config config) {
    Topology topology = RewardsTopology.build(new StreamsBuilder(), config.topics(), config.settings())
        .build(properties(config));
    KafkaStreams streams = new KafkaStreams(topology, properties(config));
    streams.setUncaughtExceptionHandler(new Replacements());
    List<Runnable> onError = new CopyOnWriteArrayList<>();
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.ERROR) {
        LOG.error("the rewards application failed (state {} after {})", now, before);
        onError.forEach(Runnable::run);
      }
    });
    streams.start();
    // The judge runs beside the stream threads, never on them: see JudgeWorker.
    Optional<JudgeWorker> worker = config.judge().isPresent() && config.settings().judging()
        ? config.embeddedWorker().map(w -> JudgeWorker.start(new JudgeWorker.Config(config.bootstrapServers(),
            config.topics(), config.workerGroupId(), config.judge().get(), w, clientProperties(config))))
        : Optional.empty();
    return new RewardsApp(streams, worker, onError);
  }

  /**
   * Poison records never get here (they go to dead-letters); what does is a broker or state
   * failure, which a fresh thread that restores from the changelogs can survive. A thread that
   * keeps failing is replaced after a growing pause (1 s, 2 s, ... 30 s); more than
   * {@link #MAX_FAILURES} failures within {@link #FAILURE_WINDOW} stop the application (state
   * ERROR), so that its supervisor restarts it instead of it spinning. A failure that no new
   * thread can fix, a source topic that is gone, stops the application at once.
   */
  private static final class Replacements implements StreamsUncaughtExceptionHandler {
    private static final int MAX_FAILURES = 10;
    private static final Duration FAILURE_WINDOW = Duration.ofMinutes(10);
    private final java.util.Deque<Long> failures = new java.util.ArrayDeque<>();

    @Override
    public synchronized StreamThreadExceptionResponse handle(Throwable e) {
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof org.apache.kafka.streams.errors.MissingSourceTopicException) {
          LOG.error("a source topic is missing: shutting down (a new stream thread would fail the same way)", e);
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
      }
      long now = System.currentTimeMillis();
      failures.addLast(now);
      while (!failures.isEmpty() && failures.peekFirst() < now - FAILURE_WINDOW.toMillis()) {
        failures.removeFirst();
      }
      if (failures.size() > MAX_FAILURES) {
        LOG.error("stream threads failed {} times in {}: shutting down", failures.size(), FAILURE_WINDOW, e);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      }
      long pause = Math.min(30_000L, 1000L << Math.min(failures.size() - 1, 5));
      LOG.error("stream thread failed ({} in {}), replacing it in {} ms", failures.size(), FAILURE_WINDOW, pause, e);
      try {
        Thread.sleep(pause);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    }
  }

  /** Runs {@code action} when the application reaches state ERROR (e.g. to exit non-zero from main). */
  public void onError(Runnable action) {
    onError.add(action);
    if (streams.state() == KafkaStreams.State.ERROR) {
      action.run();
    }
  }

  /** The pass-through client properties that apply to a plain consumer and producer (security, etc.). */
  private static Map<String, Object> clientProperties(Config config) {
    Map<String, Object> out = new java.util.HashMap<>();
    config.extra().forEach((k, v) -> {
      if (!k.startsWith("producer.") && !k.startsWith("consumer.") && !k.startsWith("main.consumer.")
          && !k.startsWith("restore.consumer.") && !k.startsWith("global.consumer.") && !k.startsWith("admin.")
          && (!StreamsConfig.configDef().names().contains(k) || ConsumerConfig.configNames().contains(k)
              || ProducerConfig.configNames().contains(k))) {
        out.put(k, v);
      }
    });
    return out;
  }

  /** The embedded judge worker, when the application runs one. */
  public Optional<JudgeWorker> judgeWorker() {
    return worker;
  }

  /** The Streams properties: exactly_once_v2 and the dead-letter handlers are not optional. */
  static Properties properties(Config config) {
    Properties p = new Properties();
    // Outputs are 2-16 KB (samples, groups in changelogs, pairs): the default 16 KB batches wake the
    // sender on almost every send. Larger batches doubled throughput in 'bench rewards'.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
    // One transaction writes a dozen partitions (outputs, changelogs, the repartition topic), so a
    // short linger sends many small batches per partition, and a fetch that returns at its first byte
    // brings back a few records per partition; every request has a fixed cost on the broker and in
    // the clients. 25 ms of linger and fetches of at least 128 KB (or 25 ms) cut the CPU per sample
    // of the whole 'bench rewards' process (broker included) by about a tenth; p99 sample-to-pair
    // went from ~280 to ~300 ms. Both are plain client settings: kafka.* properties override them.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 25);
    p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), 128 * 1024);
    p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 25);
    p.putAll(config.extra());
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    p.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitIntervalMs());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.class);
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.class);
    p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.class);
    p.put(DeadLetters.TOPIC_CONFIG, config.topics().deadLetters().name());
    p.put(DeadLetters.GLOBAL_TOPICS_CONFIG, config.topics().checkpoints().name());
    // Topology optimisation would reuse the samples topic as the problems changelog and so on: keep it plain.
    p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.NO_OPTIMIZATION);
    return p;
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  /** The underlying instance, for metrics and interactive queries. */
  public KafkaStreams streams() {
    return streams;
  }

  /** Stops processing, commits, and closes (waits up to 30 s). */
  public void stop() {
    worker.ifPresent(JudgeWorker::close);
    streams.close(Duration.ofSeconds(30));
  }

  @Override
  public void close() {
    stop();
  }
}
