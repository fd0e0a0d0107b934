package io.thinkstream.streams;

import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.JudgeItem;
import io.thinkstream.avro.JudgeRequest;
import io.thinkstream.avro.JudgeResult;
import io.thinkstream.avro.JudgeScore;
import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.internal.CircuitBreaker;
import io.thinkstream.streams.internal.DeadLetters;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serde;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The judge worker: consumes {@code judge-requests}, calls the {@link Judge} for each response and
 * produces one {@code judge-results} record per request, so that a slow or failing judge never
 * holds up a Streams transaction (a judge slower than the transaction timeout used to abort the
 * stream thread, which re-processed and called the judge again: a livelock). Calls run on a
 * bounded pool ({@code concurrency}), each with a timeout and up to {@code retries} retries with
 * exponential backoff, behind a circuit breaker that fails fast while the endpoint keeps failing.
 * A response that still has no score after that gets none (its error says why), so the group
 * closes without it: nothing loops. The consumer is paused, not left unpolled, while a batch is
 * judged, so a slow judge never costs the worker its group membership. Offsets are committed after
 * the results are acknowledged (at least once: the rewards topology drops a duplicate result).
 */
public final class JudgeWorker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JudgeWorker.class);

  /** How the judge is called: the pool, the per-call timeout, retries, backoff and the breaker. */
  public record Settings(int concurrency, Duration callTimeout, int retries, Duration backoff, int breakerFailures,
      Duration breakerOpen) {}

  /** Where the worker reads and writes, and as which consumer group. */
  public record Config(String bootstrapServers, Topics topics, String groupId, Judge judge, Settings settings,
      Map<String, Object> extra) {
    public Config {
      extra = Map.copyOf(extra);
    }
  }

  /** What the worker did, for logs and tests. */
  public record Stats(long requests, long calls, long retries, long timeouts, long failures, long breakerOpened) {}

  private final Config config;
  private final Judge judge;
  private final ExecutorService items;
  private final ExecutorService calls;
  private final CircuitBreaker breaker;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Thread loop;
  private final ExecutorService perRequest;
  private final Serde<JudgeRequest> requests;
  private final Serde<JudgeResult> results;
  private final AtomicLong requestCount = new AtomicLong();
  private final AtomicLong callCount = new AtomicLong();
  private final AtomicLong retryCount = new AtomicLong();
  private final AtomicLong timeoutCount = new AtomicLong();
  private final AtomicLong failureCount = new AtomicLong();
  private volatile boolean running = true;

  private JudgeWorker(Config config) {
    this.config = config;
    this.judge = config.judge();
    Settings s = config.settings();
    this.items = Executors.newFixedThreadPool(s.concurrency(), daemons("judge-item"));
    this.calls = Executors.newFixedThreadPool(s.concurrency(), daemons("judge-call"));
    this.breaker = new CircuitBreaker(s.breakerFailures(), s.breakerOpen(), System::currentTimeMillis);
    this.perRequest = Executors.newFixedThreadPool(s.concurrency(), daemons("judge-request"));
    this.requests = config.topics().judgeRequests().value();
    this.results = config.topics().judgeResults().value();
    Map<String, Object> c = new HashMap<>(config.extra());
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    c.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // requests come from a transactional producer
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, s.concurrency()));
    this.consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    Map<String, Object> p = new HashMap<>(config.extra());
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    this.loop = new Thread(this::run, "judge-worker");
    loop.setDaemon(true);
  }

  /** Starts the worker's consumer loop; returns at once. */
  public static JudgeWorker start(Config config) {
    JudgeWorker worker = new JudgeWorker(config);
    worker.loop.start();
    return worker;
  }

  public Stats stats() {
    return new Stats(requestCount.get(), callCount.get(), retryCount.get(), timeoutCount.get(), failureCount.get(),
        breaker.opened());
  }

  private void run() {
    try {
      consumer.subscribe(List.of(config.topics().judgeRequests().name()));
      while (running) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(200));
        if (!batch.isEmpty()) {
          handle(batch);
        }
      }
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
    } catch (RuntimeException e) {
      LOG.error("judge worker stopped", e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
      producer.close(Duration.ofSeconds(5));
    }
  }

  /** Judges a batch with the consumer paused, then produces the results and commits. */
  private void handle(ConsumerRecords<byte[], byte[]> batch) {
    consumer.pause(consumer.assignment());
    try {
      List<Future<Optional<ProducerRecord<byte[], byte[]>>>> pending = new ArrayList<>();
      Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> record : batch) {
        offsets.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
        pending.add(perRequest.submit(() -> answer(record)));
      }
      List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
      for (Future<Optional<ProducerRecord<byte[], byte[]>>> f : pending) {
        while (!f.isDone() && running) {
          consumer.poll(Duration.ofMillis(100)); // paused: returns nothing, keeps the membership alive
        }
        if (!running) {
          return;
        }
        out.add(f.get().orElse(null));
      }
      for (ProducerRecord<byte[], byte[]> r : out) {
        if (r != null) {
          producer.send(r);
        }
      }
      producer.flush();
      consumer.commitSync(offsets);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("judging a batch failed", e.getCause());
    } finally {
      consumer.resume(consumer.assignment());
    }
  }

  /** The result record of one request, or a dead letter when the request cannot be read. */
  private Optional<ProducerRecord<byte[], byte[]>> answer(ConsumerRecord<byte[], byte[]> record) {
    JudgeRequest request;
    try {
      request = requests.deserializer().deserialize(record.topic(), record.value());
    } catch (RuntimeException e) {
      DeadLetter letter = DeadLetters.of(record.topic(), record.partition(), record.offset(),
          "cannot decode: " + DeadLetters.reason(e), record.value());
      return Optional.of(new ProducerRecord<>(config.topics().deadLetters().name(), record.key(),
          config.topics().deadLetters().value().serializer().serialize(config.topics().deadLetters().name(), letter)));
    }
    requestCount.incrementAndGet();
    JudgeResult result = judge(request);
    return Optional.of(new ProducerRecord<>(config.topics().judgeResults().name(), record.key(),
        results.serializer().serialize(config.topics().judgeResults().name(), result)));
  }

  /** Scores every item of {@code request} on the bounded pools. */
  JudgeResult judge(JudgeRequest request) {
    List<Future<JudgeScore>> scores = new ArrayList<>();
    for (JudgeItem item : request.getItems()) {
      scores.add(items.submit(() -> score(request, item)));
    }
    List<JudgeScore> out = new ArrayList<>();
    for (Future<JudgeScore> f : scores) {
      try {
        out.add(f.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("scoring failed", e.getCause());
      }
    }
    return JudgeResult.newBuilder().setGroupId(request.getGroupId()).setJudgeId(judge.id()).setScores(out)
        .setCreatedAt(Instant.now()).build();
  }

  /** The result of one call per item on the caller's thread, no retries: for topology tests and benchmarks. */
  static JudgeResult judgeOnce(JudgeRequest request, Judge judge) {
    List<JudgeScore> out = new ArrayList<>();
    for (JudgeItem item : request.getItems()) {
      Judge.Judgement j = judge.judge(request.getPrompt(), item.getResponse(), Optional.ofNullable(request.getGold()));
      out.add(j instanceof Judge.Scored scored ? new JudgeScore(item.getSampleId(), scored.score(), null, 1)
          : new JudgeScore(item.getSampleId(), null, String.valueOf(j), 1));
    }
    return JudgeResult.newBuilder().setGroupId(request.getGroupId()).setJudgeId(judge.id()).setScores(out)
        .setCreatedAt(Instant.now()).build();
  }

  /** One item: up to 1 + retries calls, each with a timeout, while the breaker allows them. */
  private JudgeScore score(JudgeRequest request, JudgeItem item) throws InterruptedException {
    Settings s = config.settings();
    String error = null;
    int attempts = 0;
    while (attempts <= s.retries()) {
      if (!breaker.allow()) {
        error = "circuit open: the judge failed " + s.breakerFailures() + " times in a row";
        break;
      }
      if (attempts > 0) {
        retryCount.incrementAndGet();
      }
      attempts++;
      callCount.incrementAndGet();
      Future<Judge.Judgement> call = calls.submit(() -> judge.judge(request.getPrompt(), item.getResponse(),
          Optional.ofNullable(request.getGold())));
      Judge.Judgement j;
      try {
        j = call.get(s.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        call.cancel(true);
        j = new Judge.Failed("timed out after " + s.callTimeout().toMillis() + " ms");
      } catch (ExecutionException e) {
        j = new Judge.Failed(String.valueOf(e.getCause()));
      }
      if (j instanceof Judge.Scored scored) {
        breaker.success();
        return new JudgeScore(item.getSampleId(), scored.score(), null, attempts);
      }
      if (j instanceof Judge.Unparseable u) {
        breaker.success(); // the endpoint answered; asking again would get the same answer
        return new JudgeScore(item.getSampleId(), null, "unparseable: " + abbreviate(u.output()), attempts);
      }
      breaker.failure();
      failureCount.incrementAndGet();
      error = ((Judge.Failed) j).reason();
      if (error.startsWith("timed out")) { // ours, or the judge's own (HttpJudge) when it fires first
        timeoutCount.incrementAndGet();
      }
      if (attempts <= s.retries()) {
        Thread.sleep(s.backoff().toMillis() << (attempts - 1));
      }
    }
    LOG.warn("no judge score for {} in group {} after {} calls: {}", item.getSampleId(), request.getGroupId(),
        attempts, error);
    return new JudgeScore(item.getSampleId(), null, error, attempts);
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  private static ThreadFactory daemons(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Stops the loop (an in-flight batch is abandoned uncommitted: its requests are judged again). */
  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      loop.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    perRequest.shutdownNow();
    items.shutdownNow();
    calls.shutdownNow();
  }
}
