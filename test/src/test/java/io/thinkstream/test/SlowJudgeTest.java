package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.JudgeWorker;
import io.thinkstream.streams.RewardsApp;
import io.thinkstream.streams.RewardsConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP judge runs off the stream thread. A judge slower than the Streams transaction timeout
 * used to abort the transaction, re-process and call the judge again (a livelock); now every group
 * closes, each JUDGE pair is produced once, and each response is judged at most 1 + retries times.
 * A judge that never answers is timed out and counted, and its groups close without JUDGE pairs.
 */
class SlowJudgeTest {
  private static final int K = 4;
  private static final int GROUPS = 5;
  private static final int RETRIES = 1;
  private static final Pattern RESPONSE = Pattern.compile("Response:\\\\n(.*?)\"");
  private static EmbeddedBroker broker;

  @TempDir static Path dataDir;
  @TempDir Path stateDir;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  /** An OpenAI-compatible judge that answers after {@code delayMs}, counting calls per response. */
  private record FakeJudge(HttpServer server, ExecutorService pool, Map<String, AtomicInteger> calls) implements AutoCloseable {
    static FakeJudge start(long delayMs) throws Exception {
      HttpServer server = HttpServer.create(new InetSocketAddress("localhost", 0), 64);
      ExecutorService pool = Executors.newFixedThreadPool(32);
      Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
      server.setExecutor(pool);
      server.createContext("/v1/chat/completions", exchange -> {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Matcher m = RESPONSE.matcher(body);
        String response = m.find() ? m.group(1) : body;
        calls.computeIfAbsent(response, r -> new AtomicInteger()).incrementAndGet();
        try {
          Thread.sleep(delayMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        byte[] reply = ("{\"choices\":[{\"message\":{\"content\":\"Fine.\\nScore: " + (response.length() % 10)
            + "\"}}]}").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, reply.length);
        exchange.getResponseBody().write(reply);
        exchange.close();
      });
      server.start();
      return new FakeJudge(server, pool, calls);
    }

    String url() {
      return "http://localhost:" + server.getAddress().getPort() + "/v1";
    }

    @Override
    public void close() {
      server.stop(0);
      pool.shutdownNow();
    }
  }

  private RewardsApp start(Topics topics, String url, long callTimeoutMs) throws Exception {
    Map<String, Object> props = new HashMap<>(Map.of(
        RewardsConfig.APPLICATION_ID, "rewards-" + topics.problems().name(), RewardsConfig.STATE_DIR, stateDir.toString(),
        RewardsConfig.EXPECTED_K, K, RewardsConfig.GROUP_TIMEOUT_MS, 600_000L, RewardsConfig.JUDGE, "http",
        RewardsConfig.JUDGE_URL, url, RewardsConfig.JUDGE_TIMEOUT_MS, callTimeoutMs,
        RewardsConfig.JUDGE_RETRIES, RETRIES, RewardsConfig.JUDGE_RETRY_BACKOFF_MS, 100L));
    props.put(RewardsConfig.JUDGE_WORKER_GROUP_ID, "judge-" + topics.problems().name());
    props.put(RewardsConfig.JUDGE_BREAKER_FAILURES, 1000); // this test counts calls: keep the breaker out of it
    // a transaction times out after 3 s, the judge takes 4 s: on the stream thread this livelocked
    RewardsApp app = RewardsApp.start(RewardsApp.Config.of(broker.bootstrap(), topics, props,
        Map.of("producer.transaction.timeout.ms", 3000)));
    long deadline = System.currentTimeMillis() + 60_000;
    while (app.state() != KafkaStreams.State.RUNNING) {
      assertTrue(System.currentTimeMillis() < deadline, "not RUNNING after 60 s: " + app.state());
      Thread.sleep(100);
    }
    return app;
  }

  @Test
  void aJudgeSlowerThanTheTransactionTimeoutClosesEveryGroupOnce() throws Exception {
    Topics topics = Topics.withPrefix("slow.");
    RoundTrip.createTopics(broker.bootstrap(), topics);
    try (FakeJudge judge = FakeJudge.start(4_000); RewardsApp app = start(topics, judge.url(), 15_000)) {
      publish(topics);
      awaitCount(topics, topics.preferences(), GROUPS * 3, 120_000); // 2 OUTCOME + 1 JUDGE per group
      awaitCount(topics, topics.rewards(), GROUPS * K * 2, 60_000); // OUTCOME + JUDGE per sample
      Thread.sleep(2_000); // anything produced twice would show by now

      List<PreferencePair> judgePairs = values(topics.preferences()).stream()
          .filter(p -> p.getKind() == PairKind.JUDGE).toList();
      assertEquals(GROUPS, judgePairs.size(), "every group closes with one JUDGE pair");
      assertEquals(GROUPS, judgePairs.stream().map(PreferencePair::getPairId).distinct().count());
      List<Reward> judged = values(topics.rewards()).stream().filter(r -> r.getKind() == RewardKind.JUDGE).toList();
      assertEquals(GROUPS * K, judged.size());
      assertEquals(GROUPS * K, judged.stream().map(Reward::getSampleId).distinct().count());
      assertTrue(judged.stream().noneMatch(r -> "unparseable".equals(r.getDetails().get("score"))), judged.toString());
      assertEquals(GROUPS * K, judge.calls().size(), "every response judged: " + judge.calls().keySet());
      judge.calls().forEach((response, n) -> assertTrue(n.get() <= 1 + RETRIES, response + " judged " + n + " times"));
      JudgeWorker.Stats stats = app.judgeWorker().orElseThrow().stats();
      System.err.println("slow judge: " + stats + ", calls per response " + judge.calls().values());
    }
  }

  @Test
  void aJudgeThatNeverAnswersIsTimedOutCountedAndItsGroupsCloseWithoutJudgePairs() throws Exception {
    Topics topics = Topics.withPrefix("mute.");
    RoundTrip.createTopics(broker.bootstrap(), topics);
    try (FakeJudge judge = FakeJudge.start(600_000); RewardsApp app = start(topics, judge.url(), 1_000)) {
      publish(topics);
      awaitCount(topics, topics.rewards(), GROUPS * K * 2, 120_000);
      List<Reward> judged = values(topics.rewards()).stream().filter(r -> r.getKind() == RewardKind.JUDGE).toList();
      assertEquals(GROUPS * K, judged.size());
      judged.forEach(r -> assertTrue(r.getDetails().get("error").contains("timed out"), r.getDetails().toString()));
      assertTrue(values(topics.preferences()).stream().noneMatch(p -> p.getKind() == PairKind.JUDGE));
      JudgeWorker.Stats stats = app.judgeWorker().orElseThrow().stats();
      assertEquals(GROUPS * K * (1 + RETRIES), stats.timeouts(), stats.toString());
      assertEquals(GROUPS * K * (1 + RETRIES), stats.calls(), stats.toString());
    }
  }

  private static void publish(Topics topics) {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(broker.bootstrap()),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int p = 0; p < GROUPS; p++) {
        RoundTrip.send(producer, topics.problems(), "p" + p, Problem.newBuilder().setId("p" + p).setSource("it")
            .setQuestion("Question p" + p).setGoldAnswer(String.valueOf(10 + p)).setTask("arithmetic")
            .setCreatedAt(Instant.now()).build());
      }
      producer.flush();
      for (int p = 0; p < GROUPS; p++) {
        for (int i = 0; i < K; i++) {
          String answer = "#### " + (i % 2 == 0 ? 10 + p : 110 + p + i) + " (p" + p + " seed " + i + ")";
          RoundTrip.send(producer, topics.samples(), "p" + p, Sample.newBuilder().setSampleId("p" + p + "-s" + i)
              .setProblemId("p" + p).setPolicyVersion(1).setPrompt("Question p" + p)
              .setSteps(List.of("Seed " + i + " thinks " + "hard ".repeat(i))).setAnswer(answer).setSumLogProb(-1)
              .setSeed(i).setSamplerId("it").setTimings(new SampleTimings(0L, 0L, 0, 0)).setCreatedAt(Instant.now())
              .build());
        }
      }
      producer.flush();
    }
  }

  private static <V> List<V> values(Topic<String, V> topic) throws Exception {
    return RoundTrip.values(broker.bootstrap(), topic);
  }

  private static void awaitCount(Topics topics, Topic<String, ?> topic, int count, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    int seen = 0;
    while (System.currentTimeMillis() < deadline) {
      seen = values(topic).size();
      if (seen >= count) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError(topic.name() + ": " + seen + " records after " + timeoutMs + " ms, expected " + count);
  }
}
