package io.thinkstream.streams;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import io.thinkstream.schemas.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiPredicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * {@code thinkstream bench rewards}: throughput of the rewards application (verify, group, pair)
 * for ~2 KB samples next to the raw produce+consume rate of the same broker in the same run, and
 * the p99 latency from a group's last sample being sent to its first pair being readable
 * (read_committed) at a fixed offered rate. Since the pipeline writes several times the bytes it
 * reads (outputs, changelogs, repartitions), it is also set against a raw produce + consume of the
 * bytes it wrote ({@code ratio_vs_bytes_equivalent}). The caller provides a running broker and two created
 * topic sets (one for the raw baseline, one for the application).
 */
public final class RewardsBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SAMPLE_BYTES = 2048;

  /**
   * {@code rounds} alternating rounds, each of {@code samples} through the pipeline, then as many
   * raw records, then raw records of the bytes the pipeline wrote. Before them, untimed warm-up
   * batches of {@code warmupSamples} through the pipeline and as many raw records, repeated until
   * the JIT compiler's time during a batch falls under a tenth of its wall time, or
   * {@code maxWarmupSeconds} have passed. {@code rate} samples/s for {@code latencySeconds}.
   */
  public record Options(int samples, int k, int rate, int latencySeconds, int warmupSamples, int rounds,
      int maxWarmupSeconds) {
    public Options {
      if (samples < k || k < 2 || rate < 1 || latencySeconds < 1 || warmupSamples < k || rounds < 1
          || maxWarmupSeconds < 0) {
        throw new IllegalArgumentException("bench rewards needs samples >= k >= 2, warm-up samples >= k, a rate,"
            + " latency seconds and rounds >= 1, warm-up seconds >= 0: " + this);
      }
    }

    public static Options defaults() {
      return new Options(20_000, 8, 1000, 10, 4000, 5, 120);
    }
  }

  /**
   * One round: the pipeline's rate and its stream threads' CPU time per sample; the raw rate of as
   * many 2 KB samples; what the pipeline wrote, and the rate (in pipeline samples/s) of a raw
   * produce + consume of those bytes in as many records ({@code bytesEquivalentPerSec}) and in 2 KB
   * records ({@code sampleRecordsEquivalentPerSec}).
   */
  public record Round(double rewardsPerSec, double rawPerSec, long bytesWritten, long recordsWritten,
      double bytesEquivalentPerSec, double sampleRecordsEquivalentPerSec, double cpuMicrosPerSample) {
    public double ratioVsRaw() {
      return rewardsPerSec / rawPerSec;
    }

    public double ratioVsBytesEquivalent() {
      return rewardsPerSec / bytesEquivalentPerSec;
    }

    public double ratioVsSampleRecordsEquivalent() {
      return rewardsPerSec / sampleRecordsEquivalentPerSec;
    }
  }

  /**
   * The medians over the rounds: {@code ratioVsRaw} and {@code ratioVsBytesEquivalent} are the
   * medians of the per-round ratios (each set against the raw runs next to it, since the
   * machine's speed drifts between rounds), the rates the medians of the per-round rates.
   */
  public record Result(long samples, int warmupSamples, List<Round> rounds, double rawPerSec, double rewardsPerSec,
      double ratioVsRaw, long latencySamples, double rate, double p50Ms, double p99Ms, double maxMs, long bytesWritten,
      long recordsWritten, double bytesEquivalentPerSec, double ratioVsBytesEquivalent,
      double ratioVsSampleRecordsEquivalent, double cpuMicrosPerSample) {
    static Result of(long samples, int warmupSamples, List<Round> rounds, long latencySamples, double rate,
        double[] sortedLatencies) {
      return new Result(samples, warmupSamples, List.copyOf(rounds), median(rounds, Round::rawPerSec),
          median(rounds, Round::rewardsPerSec), median(rounds, Round::ratioVsRaw), latencySamples, rate,
          percentile(sortedLatencies, 0.5), percentile(sortedLatencies, 0.99),
          sortedLatencies.length == 0 ? Double.NaN : sortedLatencies[sortedLatencies.length - 1],
          (long) median(rounds, r -> r.bytesWritten()), (long) median(rounds, r -> r.recordsWritten()),
          median(rounds, Round::bytesEquivalentPerSec), median(rounds, Round::ratioVsBytesEquivalent),
          median(rounds, Round::ratioVsSampleRecordsEquivalent), median(rounds, Round::cpuMicrosPerSample));
    }

    public String json() {
      var node = JSON.createObjectNode().put("samples", samples).put("sample_bytes", SAMPLE_BYTES)
          .put("rounds", rounds.size())
          .put("raw_per_s", round(rawPerSec)).put("rewards_per_s", round(rewardsPerSec))
          .put("ratio_vs_raw", round(ratioVsRaw)).put("bytes_written", bytesWritten)
          .put("bytes_per_sample", samples == 0 ? 0 : bytesWritten / samples)
          .put("records_written", recordsWritten)
          .put("records_per_sample", samples == 0 ? 0 : round(recordsWritten / (double) samples))
          .put("stream_cpu_us_per_sample", round(cpuMicrosPerSample))
          .put("bytes_equivalent_per_s", round(bytesEquivalentPerSec))
          .put("ratio_vs_bytes_equivalent", round(ratioVsBytesEquivalent))
          .put("ratio_vs_bytes_equivalent_as_2kb_records", round(ratioVsSampleRecordsEquivalent));
      var perRound = node.putArray("round_ratios_vs_bytes_equivalent");
      rounds.forEach(r -> perRound.add(round(r.ratioVsBytesEquivalent())));
      return node.put("latency_samples", latencySamples)
          .put("offered_rate", round(rate)).put("p50_ms", round(p50Ms)).put("p99_ms", round(p99Ms))
          .put("max_ms", round(maxMs)).put("warmup_samples", warmupSamples).toString();
    }

    private static double round(double x) {
      return Math.round(x * 100) / 100.0;
    }
  }

  /** The median of {@code f} over the rounds (the mean of the middle two for an even count). */
  static double median(List<Round> rounds, java.util.function.ToDoubleFunction<Round> f) {
    double[] x = rounds.stream().mapToDouble(f).sorted().toArray();
    int n = x.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
  }

  private final String bootstrap;
  private final Options options;
  private final PrintWriter log;

  private RewardsBench(String bootstrap, Options options, PrintWriter log) {
    this.bootstrap = bootstrap;
    this.options = options;
    this.log = log;
  }

  /**
   * Warms both sides up, runs the rounds and the latency measurement; progress goes to
   * {@code log}, the JSON summary is its last line.
   */
  public static Result run(String bootstrap, Topics raw, Topics rewards, Options options, PrintWriter log)
      throws IOException, InterruptedException {
    RewardsBench bench = new RewardsBench(bootstrap, options, log);
    // Both sides are timed warm: the JIT has compiled the client, broker and pipeline code first.
    // On 2 cores the C2 compiler threads took 0.8 of a core for the first ~40-60 s of a run (the
    // broker, the clients and Streams are a lot of hot code), so a fixed short warm-up timed the
    // pipeline half-compiled while the raw runs after it were not.
    Result result = bench.rewards(rewards, raw);
    log.println(result.json());
    log.flush();
    return result;
  }

  private byte[] rawValue(Topics topics) {
    return topics.samples().value().serializer().serialize(topics.samples().name(), sample("raw-0", 0, true));
  }

  /** Produces {@code records} copies of {@code value} and consumes them (read_committed); returns records/s. */
  private double raw(Topics topics, int records, byte[] value, String what) throws InterruptedException {
    String topic = topics.samples().name();
    try (KafkaProducer<byte[], byte[]> producer = producer();
         Reader reader = new Reader(List.of(topic), (r, t) -> true)) {
      long start = System.nanoTime();
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>(topic, ("raw-" + (i / options.k())).getBytes(StandardCharsets.UTF_8), value));
      }
      producer.flush();
      reader.await(records, Duration.ofMinutes(5));
      double rate = records / ((System.nanoTime() - start) / 1e9);
      log.printf("%s: %d records of %d bytes, %.0f records/s%n", what, records, value.length, rate);
      return rate;
    }
  }

  /** The size of some logs: bytes on disk and records (end offsets, which count transaction markers too). */
  record LogSize(long bytes, long records) {
    LogSize minus(LogSize before) {
      return new LogSize(bytes - before.bytes, records - before.records);
    }
  }

  /**
   * The logs of the pipeline's topics (its topic set and its internal topics), summed over every
   * broker's log directories and partitions: the growth across a run is what the run wrote.
   */
  private LogSize logSize(String topicPrefix, String applicationId) throws InterruptedException {
    java.util.function.Predicate<String> ours = topic -> topic.startsWith(applicationId + "-")
        || (topic.startsWith(topicPrefix) && !topic.startsWith(applicationId) && !topic.startsWith("__"));
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      List<Integer> brokers = admin.describeCluster().nodes().get().stream().map(n -> n.id()).toList();
      long bytes = 0;
      Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
      for (var dirs : admin.describeLogDirs(brokers).allDescriptions().get().values()) {
        for (var dir : dirs.values()) {
          for (var e : dir.replicaInfos().entrySet()) {
            if (ours.test(e.getKey().topic())) {
              bytes += e.getValue().size();
              ends.put(e.getKey(), OffsetSpec.latest());
            }
          }
        }
      }
      long records = 0;
      for (var end : admin.listOffsets(ends).all().get().values()) {
        records += end.offset();
      }
      return new LogSize(bytes, records);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("cannot describe the broker's logs: " + e.getCause(), e.getCause());
    }
  }

  private Result rewards(Topics topics, Topics raw) throws IOException, InterruptedException {
    Path state = Files.createTempDirectory("rewards-bench");
    int groups = options.samples() / options.k();
    int warmupGroups = options.warmupSamples() / options.k();
    int latencyGroups = options.rate() * options.latencySeconds() / options.k();
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      List<String> problemIds = new ArrayList<>();
      for (int r = 0; r < options.rounds(); r++) {
        for (int g = 0; g < groups; g++) {
          problemIds.add(roundGroup(r, g));
        }
      }
      for (int g = 0; g < latencyGroups; g++) {
        problemIds.add("l" + g);
      }
      sendProblems(producer, topics, problemIds);
      String applicationId = "rewards-bench-" + System.currentTimeMillis();
      String topicPrefix = topics.samples().name().substring(0, topics.samples().name().length() - "samples".length());
      RewardsApp.Config config = RewardsApp.Config.of(bootstrap, topics, Map.of(
          RewardsConfig.APPLICATION_ID, applicationId,
          RewardsConfig.STATE_DIR, state.toString(), RewardsConfig.EXPECTED_K, options.k(),
          RewardsConfig.JUDGE, "none"), Map.of());
      try (RewardsApp app = RewardsApp.start(config)) {
        awaitRunning(app);
        String rewardsTopic = topics.rewards().name();
        byte[] sampleValue = rawValue(raw); // one 2 KB sample, the raw runs' value
        warmUp(producer, topics, raw, sampleValue, warmupGroups);
        List<Round> rounds = new ArrayList<>();
        for (int round = 0; round < options.rounds(); round++) {
          Thread.sleep(1000); // the last pairs and changelog writes commit before the byte count starts
          // Encoded before the clock starts, as the raw runs send one ready value: building and
          // encoding 2 KB samples on this process's cores is the load generator's work, not the pipeline's.
          List<ProducerRecord<byte[], byte[]>> samples = new ArrayList<>(groups * options.k());
          for (int g = 0; g < groups; g++) {
            samples.addAll(group(topics, roundGroup(round, g)));
          }
          LogSize before = logSize(topicPrefix, applicationId);
          long cpuBefore = streamThreadsCpuNanos(app);
          double rate;
          try (Reader outcomes = new Reader(List.of(rewardsTopic), (r, t) -> isOutcome(topics, r))) {
            long start = System.nanoTime();
            samples.forEach(producer::send);
            producer.flush();
            outcomes.await(groups * options.k(), Duration.ofMinutes(5));
            rate = groups * options.k() / ((System.nanoTime() - start) / 1e9);
          }
          double cpuPerSample = (streamThreadsCpuNanos(app) - cpuBefore) / 1e3 / (groups * options.k());
          Thread.sleep(1000); // the last pairs, SFT examples and changelog writes commit after the last reward
          LogSize written = logSize(topicPrefix, applicationId).minus(before);
          samples.clear();
          double rawRate = raw(raw, groups * options.k(), sampleValue, "  raw produce+consume");
          // the same bytes the pipeline wrote, in as many records, as plain records through the same broker
          int records = (int) Math.max(1, written.records());
          byte[] value = new byte[(int) Math.max(1, written.bytes() / records)];
          double recordsPerSec = raw(raw, records, value, "  raw equivalent");
          // and the same bytes as 2 KB samples (fewer, larger records: a faster baseline)
          int sampleRecords = (int) Math.max(1, written.bytes() / sampleValue.length);
          double sampleRecordsPerSec = raw(raw, sampleRecords, sampleValue, "  raw equivalent as 2 KB records");
          Round result = new Round(rate, rawRate, written.bytes(), written.records(),
              groups * options.k() / (records / recordsPerSec),
              groups * options.k() / (sampleRecords / sampleRecordsPerSec), cpuPerSample);
          rounds.add(result);
          log.printf("round %d: %d samples verified, grouped and paired, %.0f samples/s (%.2f of raw), stream threads"
                  + " %.0f us CPU per sample; wrote %d bytes in %d records (%d bytes, %.1f records per sample: inputs,"
                  + " outputs, changelogs, repartitions) = %.0f equivalent samples/s (%.0f as 2 KB records);"
                  + " ratio vs bytes equivalent %.2f (%.2f)%n", round + 1, groups * options.k(), rate,
              result.ratioVsRaw(), cpuPerSample, written.bytes(), written.records(),
              written.bytes() / (groups * options.k()), written.records() / (double) (groups * options.k()),
              result.bytesEquivalentPerSec(), result.sampleRecordsEquivalentPerSec(), result.ratioVsBytesEquivalent(),
              result.ratioVsSampleRecordsEquivalent());
        }
        double[] latencies = latency(producer, topics, latencyGroups);
        Arrays.sort(latencies);
        return Result.of(groups * options.k(), options.warmupSamples(), rounds, latencies.length, options.rate(),
            latencies);
      }
    } finally {
      deleteQuietly(state);
    }
  }

  /** CPU time of the application's stream threads so far (the threads that run the topology). */
  private static long streamThreadsCpuNanos(RewardsApp app) {
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    java.util.Set<String> names = new java.util.HashSet<>();
    app.streams().metadataForLocalThreads().forEach(meta -> names.add(meta.threadName()));
    long total = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (names.contains(t.getName())) {
        total += Math.max(0, threads.getThreadCpuTime(t.getId()));
      }
    }
    return total;
  }

  /**
   * Untimed batches through the pipeline and the raw path until the JIT has settled (its
   * compilation time under a tenth of a batch's wall time) or the warm-up time is up.
   */
  private void warmUp(KafkaProducer<byte[], byte[]> producer, Topics topics, Topics raw, byte[] sampleValue,
      int groups) throws InterruptedException {
    var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    boolean measurable = jit != null && jit.isCompilationTimeMonitoringSupported();
    long deadline = System.nanoTime() + options.maxWarmupSeconds() * 1_000_000_000L;
    for (int batch = 0; ; batch++) {
      long start = System.nanoTime();
      long compiled = measurable ? jit.getTotalCompilationTime() : 0;
      List<String> ids = new ArrayList<>(groups);
      for (int g = 0; g < groups; g++) {
        ids.add("w" + batch + "-" + g);
      }
      sendProblems(producer, topics, ids);
      try (Reader outcomes = new Reader(List.of(topics.rewards().name()), (r, t) -> isOutcome(topics, r))) {
        ids.forEach(id -> group(topics, id).forEach(producer::send));
        producer.flush();
        outcomes.await((long) groups * options.k(), Duration.ofMinutes(5));
      }
      raw(raw, groups * options.k(), sampleValue, "  raw warm-up");
      double wallMs = (System.nanoTime() - start) / 1e6;
      double jitShare = measurable ? (jit.getTotalCompilationTime() - compiled) / wallMs : 0;
      log.printf("warm-up batch %d: %d samples and raw records in %.0f ms, JIT compiling %.0f%% of it%n",
          batch + 1, groups * options.k(), wallMs, 100 * jitShare);
      if (jitShare < 0.1 || System.nanoTime() > deadline) {
        return;
      }
    }
  }

  /** The problems of {@code ids}, on the broker before their samples are sent. */
  private void sendProblems(KafkaProducer<byte[], byte[]> producer, Topics topics, List<String> ids) {
    for (String id : ids) {
      send(producer, topics.problems().name(), id, topics.problems().value().serializer()
          .serialize(topics.problems().name(), problem(id)));
    }
    producer.flush();
  }

  private static String roundGroup(int round, int group) {
    return "r" + round + "-" + group;
  }

  /** Offers samples at the configured rate and measures, per group, last sample sent → first pair readable. */
  private double[] latency(KafkaProducer<byte[], byte[]> producer, Topics topics, int count)
      throws InterruptedException {
    Map<String, Long> lastSent = new ConcurrentHashMap<>();
    Map<String, Long> latency = new ConcurrentHashMap<>();
    String pairsTopic = topics.preferences().name();
    try (Reader pairs = new Reader(List.of(pairsTopic), (r, now) -> {
      PreferencePair pair = topics.preferences().value().deserializer().deserialize(pairsTopic, r.value());
      Long sent = lastSent.get(pair.getProblemId());
      return sent != null && latency.putIfAbsent(pair.getProblemId(), now - sent) == null;
    })) {
      long intervalNanos = 1_000_000_000L / options.rate();
      long next = System.nanoTime();
      for (int g = 0; g < count; g++) {
        String id = "l" + g;
        for (int i = 0; i < options.k(); i++) {
          LockSupport.parkNanos(next - System.nanoTime());
          next += intervalNanos;
          send(producer, topics.samples().name(), id, topics.samples().value().serializer()
              .serialize(topics.samples().name(), sample(id, i, i % 2 == 0)));
        }
        // start the clock before the flush too: a pair can be read before this thread runs again
        lastSent.put(id, System.nanoTime());
        producer.flush(); // the group's last sample is on the broker: start its clock
        lastSent.put(id, System.nanoTime());
      }
      pairs.await(count, Duration.ofMinutes(2));
    }
    return latency.values().stream().mapToDouble(n -> n / 1e6).toArray();
  }

  /** The K samples of problem {@code id}, encoded; even seeds are correct. */
  private List<ProducerRecord<byte[], byte[]>> group(Topics topics, String id) {
    String topic = topics.samples().name();
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(options.k());
    for (int i = 0; i < options.k(); i++) {
      out.add(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8),
          topics.samples().value().serializer().serialize(topic, sample(id, i, i % 2 == 0))));
    }
    return out;
  }

  private static boolean isOutcome(Topics topics, ConsumerRecord<byte[], byte[]> r) {
    Reward reward = topics.rewards().value().deserializer().deserialize(topics.rewards().name(), r.value());
    return reward.getKind() == RewardKind.OUTCOME;
  }

  private static void send(KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value) {
    producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value));
  }

  private KafkaProducer<byte[], byte[]> producer() {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** A 2 KB sample whose reasoning carries valid annotations; even seeds answer right. */
  static Sample sample(String problemId, int seed, boolean correct) {
    List<String> steps = new ArrayList<>();
    int bytes = 0;
    for (int i = 1; bytes < SAMPLE_BYTES - 120; i++) {
      String step = "Step " + i + " of seed " + seed + ": " + i + "*" + (seed + 2) + "=<<" + i + "*" + (seed + 2) + "="
          + (i * (seed + 2)) + ">>" + (i * (seed + 2)) + " so we keep going with the plan carefully.";
      steps.add(step);
      bytes += step.length() + 1;
    }
    return Sample.newBuilder().setSampleId(problemId + "-" + seed).setProblemId(problemId).setPolicyVersion(1)
        .setPrompt("Question " + problemId).setSteps(steps).setAnswer("#### " + (correct ? 42 : 40 + seed))
        .setSumLogProb(-1).setSeed(seed).setSamplerId("bench").setTimings(new SampleTimings(0L, 0L, 0, 0))
        .setCreatedAt(Instant.now()).build();
  }

  private static Problem problem(String id) {
    return Problem.newBuilder().setId(id).setSource("bench").setQuestion("Question " + id).setGoldAnswer("42")
        .setTask("arithmetic").setCreatedAt(Instant.now()).build();
  }

  private static void awaitRunning(RewardsApp app) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (app.state() != KafkaStreams.State.RUNNING) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("rewards application not RUNNING after 2 minutes: " + app.state());
      }
      Thread.sleep(50);
    }
  }

  private static double percentile(double[] sorted, double q) {
    return sorted.length == 0 ? Double.NaN : sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp directory left behind is harmless
    }
  }

  /**
   * Counts the records of some topics (read_committed, from their end at creation) that a filter
   * accepts, on its own thread; the filter gets the record and the receive time in nanos.
   */
  private final class Reader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long count;
    private volatile RuntimeException failure;

    Reader(List<String> topics, BiPredicate<ConsumerRecord<byte[], byte[]>, Long> accept) {
      Map<String, Object> p = new HashMap<>();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
      consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      List<TopicPartition> partitions = new ArrayList<>();
      for (String t : topics) {
        consumer.partitionsFor(t, Duration.ofSeconds(30)).forEach(i -> partitions.add(new TopicPartition(t, i.partition())));
      }
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position); // resolve the end now, before anything is produced
      thread = new Thread(() -> {
        try {
          while (running) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(20))) {
              if (accept.test(r, System.nanoTime())) {
                count++;
              }
            }
          }
        } catch (RuntimeException e) {
          failure = e;
        }
      }, "bench-reader");
      thread.start();
    }

    void await(long n, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (count < n) {
        if (failure != null) {
          throw failure;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("only " + count + " of " + n + " records after " + timeout);
        }
        Thread.sleep(5);
      }
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join();
      consumer.close();
    }
  }
}
