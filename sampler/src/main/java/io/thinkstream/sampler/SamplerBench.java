package io.thinkstream.sampler;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.thinkstream.avro.Problem;
import io.thinkstream.model.Generator;
import io.thinkstream.model.ModelBench;
import io.thinkstream.model.SamplingParams;
import io.thinkstream.schemas.SampleIds;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code thinkstream bench sampler}: samples/s and tokens/s through Kafka (problems produced,
 * the sampler service generating and committing, samples counted by a read_committed consumer)
 * next to the raw {@link Generator} rate of the same policy, batch size and sampling settings in
 * the same run. After one untimed pair (the JIT compiles the Kafka clients' and the broker's
 * code during the first run through Kafka, and the generator's during the first raw run), timed
 * runs alternate raw and Kafka; the best of each counts, and the median of the per-pair ratios is
 * printed beside it (a pair's two runs lie next to each other in time on a machine whose speed
 * drifts). Every sequence generates exactly {@code maxNewTokens} (eos ignored), so both sides do
 * the same work.
 */
public final class SamplerBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  public record Options(int problems, int k, int batch, int maxNewTokens, int repeats) {
    public static Options defaults() {
      return new Options(96, 8, 32, 64, 5);
    }
  }

  /** The best of each side, and the median over the timed pairs of kafka / raw. */
  public record Result(long samples, double samplesPerSec, double tokensPerSec, double rawTokensPerSec,
      double medianPairRatio) {
    public double ratio() {
      return tokensPerSec / rawTokensPerSec;
    }

    public String json() {
      return JSON.createObjectNode().put("samples_per_s", round(samplesPerSec)).put("tokens_per_s", round(tokensPerSec))
          .put("raw_tokens_per_s", round(rawTokensPerSec)).put("ratio", Math.round(ratio() * 1000) / 1000.0)
          .put("median_pair_ratio", Math.round(medianPairRatio * 1000) / 1000.0).toString();
    }

    private static double round(double x) {
      return Math.round(x * 10) / 10.0;
    }
  }

  private SamplerBench() {}

  /**
   * Runs the benchmark on {@code policy}; {@code freshTopics} creates an empty topic set for
   * each Kafka run (so every run starts from nothing, with its own consumer group).
   */
  public static Result run(String bootstrap, IntFunction<Topics> freshTopics, LivePolicy policy, Options o,
      PrintWriter log) throws InterruptedException {
    SamplerConfig.Settings settings = SamplerConfig.of(Map.of(SamplerConfig.K, o.k(), SamplerConfig.BATCH_MAX, o.batch(),
        SamplerConfig.MAX_NEW_TOKENS, o.maxNewTokens(), SamplerConfig.IGNORE_EOS, true, SamplerConfig.ID, "bench"));
    SamplingParams params = new SamplingParams(settings.temperature(), settings.topP(), settings.topK(),
        settings.maxNewTokens(), List.of(), List.of());
    List<Problem> problems = problems(o.problems());
    DjlBackend backend = new DjlBackend(policy);
    double warmRaw = onOwnThread(() -> raw(backend, problems, settings, params));
    double[] warmKafka = kafka(bootstrap, freshTopics.apply(0), backend, problems, settings);
    log.printf("untimed warm-up: raw %.0f tokens/s, through kafka %.0f tokens/s%n", warmRaw, warmKafka[1]);
    log.flush();
    double bestRaw = 0;
    double bestKafka = 0;
    double bestSamples = 0;
    List<Double> raws = new ArrayList<>();
    List<Double> kafkas = new ArrayList<>();
    for (int r = 0; r < o.repeats(); r++) {
      double raw = onOwnThread(() -> raw(backend, problems, settings, params));
      bestRaw = Math.max(bestRaw, raw);
      double[] kafka = kafka(bootstrap, freshTopics.apply(r + 1), backend, problems, settings);
      raws.add(raw);
      kafkas.add(kafka[1]);
      log.printf("run %d: raw generator %8.0f tokens/s, through kafka %8.0f tokens/s (%.1f samples/s), ratio %.3f%n",
          r + 1, raw, kafka[1], kafka[0], kafka[1] / raw);
      log.flush();
      if (kafka[1] > bestKafka) {
        bestKafka = kafka[1];
        bestSamples = kafka[0];
      }
    }
    double median = ModelBench.medianOfRatios(kafkas, raws);
    Result result = new Result((long) o.problems() * o.k(), bestSamples, bestKafka, bestRaw, median);
    log.printf("best: %.1f samples/s, %.0f tokens/s through kafka vs %.0f raw (ratio %.3f); median pair ratio %.3f%n",
        result.samplesPerSec(), result.tokensPerSec(), result.rawTokensPerSec(), result.ratio(), median);
    log.flush();
    return result;
  }

  /**
   * Runs {@code body} on a fresh thread, as the service samples on its own thread: libtorch keeps
   * per-thread state (grad mode, the OpenMP team), and on the CLI's main thread the same loop ran
   * several times slower and far less steadily.
   */
  private static double onOwnThread(java.util.function.DoubleSupplier body) throws InterruptedException {
    double[] out = new double[1];
    RuntimeException[] error = new RuntimeException[1];
    Thread t = new Thread(() -> {
      try {
        out[0] = body.getAsDouble();
      } catch (RuntimeException e) {
        error[0] = e;
      }
    }, "bench-raw");
    t.start();
    t.join();
    if (error[0] != null) {
      throw error[0];
    }
    return out[0];
  }

  /** The same sequences the service draws, in batches of {@code batch}, straight through the backend. */
  private static double raw(DjlBackend backend, List<Problem> problems, SamplerConfig.Settings s, SamplingParams params) {
    List<SamplerBackend.Request> all = new ArrayList<>();
    for (Problem p : problems) {
      for (int i = 0; i < s.k(); i++) {
        String tag = s.strategies() == 0 ? null : PromptFormat.tag(i % s.strategies() + 1);
        all.add(new SamplerBackend.Request(new Prompt.Turn(List.of(), p.getQuestion(), tag), SampleIds.seed(s.seed(), p.getId(), i)));
      }
    }
    long start = System.nanoTime();
    long tokens = 0;
    for (int from = 0; from < all.size(); from += s.batchMax()) {
      SamplerBackend.Batch b = backend.generate(all.subList(from, Math.min(all.size(), from + s.batchMax())), params);
      tokens += b.completions().stream().mapToInt(SamplerBackend.Completion::completionTokens).sum();
    }
    return tokens / ((System.nanoTime() - start) / 1e9);
  }

  /** {samples/s, tokens/s} from the first problem produced to the last sample readable. */
  private static double[] kafka(String bootstrap, Topics topics, DjlBackend backend, List<Problem> problems,
      SamplerConfig.Settings s) throws InterruptedException {
    SamplerService.Config config = new SamplerService.Config(bootstrap, topics, s, backend, Optional.empty(),
        new SimpleMeterRegistry(), Optional.empty(), Map.of());
    long expected = (long) problems.size() * s.k();
    Map<String, Object> client = Map.of("bootstrap.servers", bootstrap);
    Map<String, Object> consumerProps = new HashMap<>(client);
    consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (SamplerService service = SamplerService.start(config);
         KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(client, new ByteArraySerializer(), new ByteArraySerializer());
         KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      if (!service.awaitAssignment(Duration.ofSeconds(60))) {
        throw new IllegalStateException("the bench sampler got no partitions within 60 s");
      }
      List<TopicPartition> parts = consumer.partitionsFor(topics.samples().name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      consumer.poll(Duration.ZERO);
      long start = System.nanoTime();
      for (Problem p : problems) {
        p.setCreatedAt(Instant.now());
        producer.send(new ProducerRecord<>(topics.problems().name(), p.getId().getBytes(),
            topics.problems().value().serializer().serialize(topics.problems().name(), p)));
      }
      producer.flush();
      long seen = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      while (seen < expected) {
        seen += consumer.poll(Duration.ofMillis(20)).count();
        if (System.nanoTime() > deadline || service.failure().isPresent()) {
          throw new IllegalStateException("only " + seen + " of " + expected + " samples arrived: " + service.failure());
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      return new double[] {seen / seconds, service.metrics().tokens() / seconds};
    }
  }

  private static List<Problem> problems(int n) {
    List<Problem> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Problem.newBuilder().setId("bench-" + i).setSource("bench")
          .setQuestion("Ann has " + (10 + i) + " apples. She buys " + (i % 7 + 2) + " more. How many does she have now?")
          .setTask("arithmetic").setCreatedAt(Instant.now()).build());
    }
    return out;
  }
}
