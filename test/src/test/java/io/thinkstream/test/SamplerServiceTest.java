package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.FollowUp;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampledTurn;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.Generator;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SamplingParams;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.sampler.DjlBackend;
import io.thinkstream.sampler.LivePolicy;
import io.thinkstream.sampler.SamplerBackend;
import io.thinkstream.sampler.SamplerConfig;
import io.thinkstream.sampler.SamplerService;
import io.thinkstream.schemas.SampleIds;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sampler service on a real broker with a tiny random-weight policy: counts, ids and tags;
 * multi-turn contexts (asserted on the token ids fed to the model); a crash and a restart; two
 * samplers in one group; hot reload during a batch; a refused checkpoint.
 */
class SamplerServiceTest {
  private static final int TAGS = 4;
  private static final SyntheticTokenizer TOK = new SyntheticTokenizer(TAGS);
  private static EmbeddedBroker broker;
  private static Path model0;
  private static Path model1;

  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dir.resolve("kafka"));
    model0 = saveTiny(dir.resolve("v0"), 1);
    model1 = saveTiny(dir.resolve("v1"), 2);
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void fiftyProblemsGiveTwoHundredSamplesWithTagsSpreadEvenlyAndDeterministicIds() throws Exception {
    Topics topics = topics("count.");
    try (SamplerService sampler = SamplerService.start(config(topics, "a", 4, djl(0), Optional.empty()))) {
      List<Problem> problems = produceProblems(topics, 50, 0);
      List<Sample> samples = awaitSamples(topics, 200);
      assertEquals(200, samples.size());
      Map<String, Long> byTag = samples.stream().collect(Collectors.groupingBy(Sample::getStrategy, Collectors.counting()));
      assertEquals(Map.of("<think1>", 50L, "<think2>", 50L, "<think3>", 50L, "<think4>", 50L), byTag);
      Set<String> expected = new HashSet<>();
      for (Problem p : problems) {
        for (int i = 0; i < 4; i++) {
          expected.add(SampleIds.of(p.getId(), 0, PromptFormat.tag(i % TAGS + 1), SampleIds.seed(0, p.getId(), i)));
        }
      }
      for (Sample s : samples) {
        assertEquals(SampleIds.of(s.getProblemId(), s.getPolicyVersion(), s.getStrategy(), s.getSeed()), s.getSampleId());
        assertEquals("a", s.getSamplerId());
        assertEquals(TOK.encodeAfterBos(s.getPrompt()).length, s.getTimings().getPromptTokens(), s.toString());
      }
      assertEquals(expected, samples.stream().map(Sample::getSampleId).collect(Collectors.toSet()));
      assertEquals(200.0, sampler.metrics().samples());
    }
  }

  @Test
  void multiTurnSamplesAnswerEveryTurnWithoutEarlierReasoningInTheContext() throws Exception {
    Topics topics = topics("turns.");
    Scripted scripted = new Scripted(djl(0));
    try (SamplerService sampler = SamplerService.start(config(topics, "a", 2, scripted, Optional.empty()))) {
      Problem p = problem("mt", "Tom has 3 apples.", List.of("He buys 2 more.", "He loses 1."));
      send(topics.problems(), p.getId(), p);
      List<Sample> samples = awaitSamples(topics, 2);
      for (Sample s : samples) {
        assertEquals(2, s.getFollowUps().size(), s.toString());
        String tag = s.getStrategy();
        List<String> questions = List.of(p.getQuestion(), "He buys 2 more.", "He loses 1.");
        List<List<String>> steps = new ArrayList<>(List.of(s.getSteps()));
        List<String> answers = new ArrayList<>(List.of(s.getAnswer()));
        for (SampledTurn t : s.getFollowUps()) {
          steps.add(t.getSteps());
          answers.add(t.getAnswer());
        }
        for (int t = 0; t < 3; t++) {
          assertFalse(steps.get(t).isEmpty(), "turn " + (t + 1) + " has reasoning");
          assertTrue(answers.get(t).startsWith("####"), "turn " + (t + 1) + " has an answer: " + answers.get(t));
        }
        // turn 3's context, exactly: <bos> H1 A1 <eos> H2 A2 <eos> H3 tag
        long seed3 = SampleIds.seed(s.getSeed(), p.getId() + "#turn", 3);
        int[] fed = scripted.promptBySeed.get(seed3);
        int[] expected = concat(TOK.encodeAfterBos(PromptFormat.human(questions.get(0))), TOK.encode(answers.get(0)),
            new int[] {TOK.eosId()}, TOK.encode(PromptFormat.human(questions.get(1))), TOK.encode(answers.get(1)),
            new int[] {TOK.eosId()}, TOK.encode(PromptFormat.human(questions.get(2))), TOK.encode(tag));
        assertArrayEquals(expected, fed);
        for (int t = 0; t < 2; t++) {
          assertTrue(contains(fed, concat(TOK.encode(answers.get(t)), new int[] {TOK.eosId()})), "answer " + (t + 1) + " is in the context");
          assertFalse(contains(fed, TOK.encode(PromptFormat.reasoning(steps.get(t)).strip())), "reasoning " + (t + 1) + " is not");
        }
        // turn 1 is the single-turn prompt the trainer uses
        assertArrayEquals(TOK.encodeAfterBos(PromptFormat.prompt(p.getQuestion(), tag)), scripted.promptBySeed.get(s.getSeed()));
      }
    }
  }

  @Test
  void aCrashedSamplersSuccessorYieldsEverySampleExactlyOnce() throws Exception {
    Topics topics = topics("crash.");
    Slow slow = new Slow(djl(0), 60);
    SamplerService first = SamplerService.start(config(topics, "a", 4, slow, Optional.empty(), 8));
    List<Problem> problems = produceProblems(topics, 40, 0);
    awaitSamples(topics, 24);
    first.halt();
    int beforeRestart = values(topics.samples()).size();
    assertTrue(beforeRestart < 160, "the crash came before the end: " + beforeRestart);
    try (SamplerService second = SamplerService.start(config(topics, "a", 4, djl(0), Optional.empty(), 8))) {
      List<Sample> samples = awaitSamples(topics, 160);
      Thread.sleep(1000); // anything committed twice would show by now
      samples = values(topics.samples());
      assertEquals(160, samples.size(), "no duplicates even before dedup");
      Set<String> expected = new HashSet<>();
      for (Problem p : problems) {
        for (int i = 0; i < 4; i++) {
          expected.add(SampleIds.of(p.getId(), 0, PromptFormat.tag(i % TAGS + 1), SampleIds.seed(0, p.getId(), i)));
        }
      }
      assertEquals(expected, samples.stream().map(Sample::getSampleId).collect(Collectors.toSet()));
    }
    assertTrue(uncommittedCount(topics.samples()) > 160, "the crash left an uncommitted batch in the log");
  }

  @Test
  void twoSamplersInOneGroupBothGetWork() throws Exception {
    Topics topics = topics("group.");
    try (SamplerService a = SamplerService.start(config(topics, "a", 4, new Slow(djl(0), 20), Optional.empty(), 8));
         SamplerService b = SamplerService.start(config(topics, "b", 4, new Slow(djl(0), 20), Optional.empty(), 8))) {
      assertTrue(a.awaitAssignment(Duration.ofSeconds(30)) && b.awaitAssignment(Duration.ofSeconds(30)));
      produceProblems(topics, 30, 0);
      List<Sample> samples = awaitSamples(topics, 120);
      assertEquals(Set.of("a", "b"), samples.stream().map(Sample::getSamplerId).collect(Collectors.toSet()));
      assertEquals(120, samples.stream().map(Sample::getSampleId).distinct().count());
    }
  }

  @Test
  void aPublishedCheckpointIsPickedUpWhileABatchIsInFlight() throws Exception {
    Topics topics = topics("reload.");
    LivePolicy policy = new LivePolicy(LivePolicy.load(model0, 0));
    HoldsFirstBatch backend = new HoldsFirstBatch(new DjlBackend(policy), policy);
    try (SamplerService sampler = SamplerService.start(config(topics, "a", 4, backend, Optional.of(policy), 8))) {
      produceProblems(topics, 20, 0);
      assertTrue(backend.inFlight.await(30, TimeUnit.SECONDS), "a batch started");
      publish(topics, 1, model1, Checkpoints.sha256(model1.resolve(Checkpoints.WEIGHTS)));
      List<Sample> samples = awaitSamples(topics, 80);
      Map<Long, Long> byVersion = samples.stream().collect(Collectors.groupingBy(Sample::getPolicyVersion, Collectors.counting()));
      assertTrue(byVersion.getOrDefault(0L, 0L) >= 8, "the batch in flight finished on v0: " + byVersion);
      assertTrue(byVersion.getOrDefault(1L, 0L) > 0, "later samples come from v1: " + byVersion);
      assertEquals(1.0, sampler.metrics().reloads());
      assertTrue(sampler.isRunning() && sampler.failure().isEmpty(), "no crash: " + sampler.failure());
      samples.forEach(s -> assertEquals(SampleIds.of(s.getProblemId(), s.getPolicyVersion(), s.getStrategy(), s.getSeed()),
          s.getSampleId()));
    }
  }

  @Test
  void aCheckpointWhoseSha256DiffersFromItsEventIsRefused() throws Exception {
    Topics topics = topics("refuse.");
    LivePolicy policy = new LivePolicy(LivePolicy.load(model0, 0));
    try (SamplerService sampler = SamplerService.start(config(topics, "a", 4, new DjlBackend(policy), Optional.of(policy), 8))) {
      publish(topics, 1, model1, "0".repeat(64));
      await(() -> sampler.metrics().refused() >= 1, "the checkpoint is refused");
      produceProblems(topics, 5, 0);
      List<Sample> samples = awaitSamples(topics, 20);
      assertTrue(samples.stream().allMatch(s -> s.getPolicyVersion() == 0), "the old model keeps serving");
      assertEquals(0, policy.version());
      assertEquals(1.0, sampler.metrics().refused());
      assertEquals(0.0, sampler.metrics().reloads());
    }
  }

  @Test
  void poisonProblemsGoToDeadLettersAndTheRestIsSampled() throws Exception {
    Topics topics = topics("poison.");
    try (SamplerService sampler = SamplerService.start(config(topics, "a", 4, djl(0), Optional.empty()))) {
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(broker.bootstrap()),
          new ByteArraySerializer(), new ByteArraySerializer())) {
        producer.send(new ProducerRecord<>(topics.problems().name(), "bad".getBytes(StandardCharsets.UTF_8),
            "not avro".getBytes(StandardCharsets.UTF_8)));
      }
      Problem tooLong = problem("long", "x".repeat(200), List.of()); // beyond the tiny model's 128 positions
      send(topics.problems(), tooLong.getId(), tooLong);
      produceProblems(topics, 2, 0);
      List<Sample> samples = awaitSamples(topics, 8);
      await(() -> {
        try {
          return values(topics.deadLetters()).size() >= 2;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, "two dead letters");
      List<io.thinkstream.avro.DeadLetter> letters = values(topics.deadLetters());
      assertEquals(2, letters.size(), letters.toString());
      assertTrue(letters.stream().anyMatch(l -> l.getError().startsWith("cannot decode Problem")), letters.toString());
      assertTrue(letters.stream().anyMatch(l -> l.getError().contains("cannot sample problem long")), letters.toString());
      assertEquals(Set.of("p0", "p1"), samples.stream().map(Sample::getProblemId).collect(Collectors.toSet()));
      assertTrue(sampler.isRunning());
    }
  }

  @Test
  void anExploreRequestGetsOneResultWithKCompletionsOfItsPrefix() throws Exception {
    Topics topics = topics("explore.");
    try (SamplerService sampler = SamplerService.start(config(topics, "a", 4, djl(0), Optional.empty()))) {
      String prefix = PromptFormat.prefix(PromptFormat.prompt("Ann has 3 apples.", "<think1>"), List.of("She eats one."));
      send(topics.exploreRequests(), "s-1", io.thinkstream.avro.ExploreRequest.newBuilder().setSampleId("s-1")
          .setProblemId("p").setStepIndex(1).setPrefix(prefix).setK(3).setPolicyVersion(0).build());
      List<RoundTrip.Keyed<io.thinkstream.avro.ExploreResult>> results = List.of();
      long deadline = System.currentTimeMillis() + 60_000;
      while (results.isEmpty() && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
        results = RoundTrip.readAll(broker.bootstrap(), topics.exploreResults());
      }
      assertEquals(1, results.size());
      assertEquals("s-1", results.get(0).key());
      io.thinkstream.avro.ExploreResult r = results.get(0).value();
      assertEquals(1, r.getStepIndex());
      assertEquals(3, r.getCompletions().size());
      assertEquals(-1, r.getCorrectCount(), "the sampler holds no gold answers");
      assertTrue(values(topics.samples()).isEmpty());
    }
  }

  // ---- fixtures

  private static Topics topics(String prefix) throws Exception {
    Topics topics = Topics.withPrefix("sampler-" + prefix);
    RoundTrip.createTopics(broker.bootstrap(), topics);
    return topics;
  }

  private static Path saveTiny(Path dir, long seed) throws Exception {
    try (Transformer model = Transformer.init(ModelConfig.tiny(TOK.vocabSize()), Device.cpu(), DataType.FLOAT32, seed)) {
      Checkpoints.save(model, TOK, dir);
    }
    Files.writeString(dir.resolve("thinkstream.json"), "{\"tokenizer\": \"synthetic\", \"strategy_tags\": " + TAGS + "}\n");
    return dir;
  }

  private static DjlBackend djl(long version) {
    return new DjlBackend(new LivePolicy(LivePolicy.load(model0, version)));
  }

  private static SamplerService.Config config(Topics topics, String id, int k, SamplerBackend backend,
      Optional<LivePolicy> reloads) {
    return config(topics, id, k, backend, reloads, 32);
  }

  private static SamplerService.Config config(Topics topics, String id, int k, SamplerBackend backend,
      Optional<LivePolicy> reloads, int batchMax) {
    SamplerConfig.Settings s = SamplerConfig.of(Map.of(SamplerConfig.K, k, SamplerConfig.STRATEGIES, TAGS,
        SamplerConfig.MAX_NEW_TOKENS, 8, SamplerConfig.BATCH_MAX, batchMax, SamplerConfig.BATCH_WAIT_MS, 20L,
        SamplerConfig.ID, id, SamplerConfig.GROUP_ID, "g-" + topics.problems().name()));
    return new SamplerService.Config(broker.bootstrap(), topics, s, backend, reloads, new SimpleMeterRegistry(),
        Optional.empty(), Map.of());
  }

  private static Problem problem(String id, String question, List<String> followUps) {
    return Problem.newBuilder().setId(id).setSource("it").setQuestion(question).setTask("arithmetic")
        .setCreatedAt(Instant.now())
        .setFollowUps(followUps.stream().map(q -> FollowUp.newBuilder().setQuestion(q).build()).toList()).build();
  }

  private static List<Problem> produceProblems(Topics topics, int n, int from) {
    List<Problem> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      Problem p = problem("p" + i, "Ann has " + i + " apples. How many does she have now?", List.of());
      out.add(p);
      send(topics.problems(), p.getId(), p);
    }
    return out;
  }

  private static void publish(Topics topics, long version, Path dir, String sha) {
    Checkpoint c = Checkpoint.newBuilder().setVersion(version).setParent(version - 1).setUri(dir.toString())
        .setSha256(sha).setConsumedOffsets(List.of()).setCreatedAt(Instant.now()).build();
    send(topics.checkpoints(), "v" + version, c);
  }

  private static <V> void send(Topic<String, V> topic, String key, V value) {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(broker.bootstrap()),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic.name(), key.getBytes(StandardCharsets.UTF_8),
          topic.value().serializer().serialize(topic.name(), value)));
    }
  }

  private static <V> List<V> values(Topic<String, V> topic) throws Exception {
    return RoundTrip.values(broker.bootstrap(), topic);
  }

  private static List<Sample> awaitSamples(Topics topics, int count) throws Exception {
    long deadline = System.currentTimeMillis() + 90_000;
    List<Sample> seen = List.of();
    while (System.currentTimeMillis() < deadline) {
      seen = values(topics.samples());
      if (seen.size() >= count) {
        return seen;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(topics.samples().name() + ": " + seen.size() + " samples after 90 s, expected " + count);
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 30_000;
    while (!condition.getAsBoolean()) {
      assertTrue(System.currentTimeMillis() < deadline, what + " within 30 s");
      Thread.sleep(100);
    }
  }

  /** Every record in the log, aborted ones included (read_uncommitted). */
  private static int uncommittedCount(Topic<String, ?> topic) {
    Map<String, Object> props = new HashMap<>(RoundTrip.client(broker.bootstrap()));
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topic.name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      int n = 0;
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> ignored : c.poll(Duration.ofMillis(200))) {
          n++;
        }
      }
      return n;
    }
  }

  private static int[] concat(int[]... parts) {
    int[] out = new int[java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum()];
    int at = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  private static boolean contains(int[] haystack, int[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  // ---- backends around the real one

  /**
   * Records the token ids the model was fed (by seed) and stands in for a trained model's text:
   * random weights never write a final answer, so each completion becomes a distinct reasoning
   * line and an answer line.
   */
  private static final class Scripted implements SamplerBackend {
    final SamplerBackend inner;
    final Map<Long, int[]> promptBySeed = Collections.synchronizedMap(new HashMap<>());
    final AtomicInteger n = new AtomicInteger();

    Scripted(SamplerBackend inner) {
      this.inner = inner;
    }

    @Override
    public Batch generate(List<Request> requests, SamplingParams params) {
      Batch b = inner.generate(requests, params);
      List<Completion> out = new ArrayList<>();
      for (int i = 0; i < requests.size(); i++) {
        Completion c = b.completions().get(i);
        promptBySeed.put(requests.get(i).seed(), c.promptIds());
        int id = n.incrementAndGet();
        out.add(new Completion("zq" + id + " reasons\n#### " + (40 + id), c.sumLogProb(), c.promptIds(), c.promptTokens(),
            c.completionTokens()));
      }
      return new Batch(b.policyVersion(), out);
    }

    @Override
    public int eosId() {
      return inner.eosId();
    }
  }

  /** The real backend, slowed down so a test can act while work is still going on. */
  private static final class Slow implements SamplerBackend {
    final SamplerBackend inner;
    final long millis;

    Slow(SamplerBackend inner, long millis) {
      this.inner = inner;
      this.millis = millis;
    }

    @Override
    public Batch generate(List<Request> requests, SamplingParams params) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return inner.generate(requests, params);
    }

    @Override
    public int eosId() {
      return inner.eosId();
    }
  }

  /**
   * Runs the first batch on the version it holds while a reload replaces that version: the batch
   * must still run on the replaced weights (a freed model would fail) and carry their version.
   */
  private static final class HoldsFirstBatch implements SamplerBackend {
    final DjlBackend inner;
    final LivePolicy policy;
    final CountDownLatch inFlight = new CountDownLatch(1);
    boolean first = true;

    HoldsFirstBatch(DjlBackend inner, LivePolicy policy) {
      this.inner = inner;
      this.policy = policy;
    }

    @Override
    public Batch generate(List<Request> requests, SamplingParams params) {
      if (!first) {
        return inner.generate(requests, params);
      }
      first = false;
      try (LivePolicy.Lease lease = policy.acquire()) {
        inFlight.countDown();
        long deadline = System.currentTimeMillis() + 30_000;
        while (policy.version() == lease.version().number() && System.currentTimeMillis() < deadline) {
          Thread.sleep(20);
        }
        assertEquals(1, policy.version(), "the reload happened while the batch held v0");
        LivePolicy.Version v = lease.version();
        List<Generator.Request> batch = new ArrayList<>();
        for (Request r : requests) {
          batch.add(new Generator.Request(r.prompt().ids(v.tokenizer()), r.seed()));
        }
        List<Completion> out = new ArrayList<>();
        new Generator(v.model(), v.tokenizer()).generate(batch, params).forEach(g ->
            out.add(new Completion(g.text(), g.sumLogProb(), new int[0], 0, g.tokens().length)));
        return new Batch(v.number(), out);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    @Override
    public int eosId() {
      return inner.eosId();
    }
  }
}
