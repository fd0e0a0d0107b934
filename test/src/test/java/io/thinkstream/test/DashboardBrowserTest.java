package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.Evaluation;
import io.thinkstream.avro.OffsetRange;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import io.thinkstream.evaluator.Dashboard;
import io.thinkstream.evaluator.EvaluatorConfig;
import io.thinkstream.evaluator.EvaluatorService;
import io.thinkstream.schemas.SampleIds;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.tasks.SyntheticProblems;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard end to end in headless Chromium (Debian's chromium + chromium-driver, driven
 * by Selenium): a run with history on the in-process broker, the evaluator scoring new tiny
 * checkpoints while the page is open; the accuracy chart gains the new points without a reload
 * and the lineage of a problem lists its samples, pairs and the checkpoint trained on them.
 * Screenshots go to {@code target/dashboard.png} and {@code target/dashboard-lineage.png}.
 */
class DashboardBrowserTest {
  private static final Topics TOPICS = Topics.withPrefix("exp-42.");
  private static final String INSTALL = "apt-get install -y chromium chromium-driver";
  private static EmbeddedBroker broker;

  @TempDir static Path dataDir;
  @TempDir static Path checkpoints;
  @TempDir static Path profile;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
    RoundTrip.createTopics(broker.bootstrap(), TOPICS);
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void newEvaluationsAppearLiveAndLineageTracesAProblemToItsCheckpoint() throws Exception {
    Path chromium = OutsideTool.require("chromium", INSTALL);
    Path chromedriver = OutsideTool.require("chromedriver", INSTALL);
    String problemId = seedRun();

    EvaluatorConfig.Dashboard settings = new EvaluatorConfig(Map.of(EvaluatorConfig.DASHBOARD_PORT, "0",
        EvaluatorConfig.DASHBOARD_LAG_INTERVAL_MS, "500")).dashboard();
    try (EvaluatorService evaluator = EvaluatorService.start(EvaluatorTest.config(broker.bootstrap(), TOPICS), new SimpleMeterRegistry());
         Dashboard dashboard = Dashboard.start(RoundTrip.client(broker.bootstrap()), TOPICS, settings, "exp-42.", new SimpleMeterRegistry())) {
      WebDriver driver = chrome(chromium, chromedriver);
      try {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));
        driver.get("http://127.0.0.1:" + dashboard.port() + "/");
        assertEquals("thinkstream · exp-42.", driver.getTitle());
        wait.until(d -> points(js) == 6 * 3); // the run's six earlier evaluations, three metrics each
        wait.until(d -> "live".equals(d.findElement(By.id("t-live")).getText()));
        js.executeScript("window.__sameDocument = 'yes';");

        // The trainer publishes v7 (trained on every pair so far) and v8; the evaluator scores them.
        List<OffsetRange> consumed = consumedSoFar();
        TinyCheckpoints.publish(broker.bootstrap(), TOPICS, TinyCheckpoints.write(checkpoints, 7, consumed));
        wait.until(d -> points(js) == 7 * 3);
        TinyCheckpoints.publish(broker.bootstrap(), TOPICS, TinyCheckpoints.write(checkpoints, 8, List.of()));
        wait.until(d -> points(js) == 8 * 3);
        assertEquals("yes", js.executeScript("return window.__sameDocument;"), "the page was reloaded");
        assertTrue(((Number) js.executeScript("return window.dashboard.events;")).intValue() >= 2, "no live events");
        wait.until(d -> "v8".equals(d.findElement(By.id("t-version")).getText()));
        wait.until(d -> String.valueOf(js.executeScript("return window.dashboard.charts.lag.data.labels.map(l => l.join(' ')).join('|');"))
            .contains("sampler-0 → problems (9)"));
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target/dashboard.png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));

        driver.findElement(By.id("problem-id")).sendKeys(problemId);
        driver.findElement(By.id("trace")).click();
        wait.until(d -> d.findElements(By.cssSelector("#lineage-samples tr[data-key]")).size() == 4);
        String samples = driver.findElement(By.id("lineage-samples")).getText();
        String pairs = driver.findElement(By.id("lineage-pairs")).getText();
        for (int seed = 0; seed < 4; seed++) {
          assertTrue(samples.contains(sampleId(problemId, seed)), samples);
        }
        assertTrue(pairs.contains("pair-" + problemId + "-outcome") && pairs.contains("v7"), pairs);
        assertTrue(driver.findElement(By.id("lineage-checkpoints")).getText().contains("v7"));
        js.executeScript("document.getElementById('lineage-panel').scrollIntoView();");
        Files.write(Path.of("target/dashboard-lineage.png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
      } finally {
        driver.quit();
      }
    }
  }

  private static int points(JavascriptExecutor js) {
    Object n = js.executeScript("const c = window.dashboard && window.dashboard.charts.accuracy;"
        + "return c ? c.data.datasets.reduce((n, d) => n + d.data.length, 0) : -1;");
    return ((Number) n).intValue();
  }

  private static WebDriver chrome(Path chromium, Path chromedriver) {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1280,800",
        "--user-data-dir=" + profile.toAbsolutePath());
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver.toFile())
        .usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  /**
   * An earlier stretch of the run: 12 problems with 4 samples each (two tags), their OUTCOME and
   * JUDGE rewards and pairs spread over the last minutes, checkpoints v1..v6 with their
   * evaluations, and a sampler group that has read only part of the problems.
   */
  private static String seedRun() throws Exception {
    SyntheticProblems source = new SyntheticProblems(SyntheticProblems.Settings.defaults(), 42, Clock.systemUTC());
    long now = System.currentTimeMillis();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(RoundTrip.client(broker.bootstrap()),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < 12; i++) {
        Problem p = source.problem(i);
        long t = now - (12 - i) * 15_000L;
        send(producer, TOPICS.problems(), p.getId(), p, t);
        for (int seed = 0; seed < 4; seed++) {
          boolean correct = (seed + i) % 3 != 0;
          String answer = "#### " + (correct ? p.getGoldAnswer() : p.getGoldAnswer() + "1");
          send(producer, TOPICS.samples(), p.getId(), Sample.newBuilder().setSampleId(sampleId(p.getId(), seed))
              .setProblemId(p.getId()).setPolicyVersion(6).setStrategy("<think" + (seed % 2 + 1) + ">").setPrompt(p.getQuestion())
              .setSteps(List.of("step " + seed)).setAnswer(answer).setSumLogProb(-3).setSeed(seed).setSamplerId("sampler-0")
              .setTimings(new SampleTimings(5L, 40L, 30, 20)).setCreatedAt(Instant.ofEpochMilli(t)).build(), t + seed * 500);
          send(producer, TOPICS.rewards(), sampleId(p.getId(), seed), reward(p.getId(), seed, RewardKind.OUTCOME, correct ? 1 : 0, t), t + 3000);
          if (seed % 2 == 0) {
            send(producer, TOPICS.rewards(), sampleId(p.getId(), seed), reward(p.getId(), seed, RewardKind.JUDGE, 0.3 * seed, t), t + 4000);
          }
        }
        send(producer, TOPICS.preferences(), p.getId(), pair(p.getId(), PairKind.OUTCOME, t), t + 5000);
        if (i % 2 == 0) {
          send(producer, TOPICS.preferences(), p.getId(), pair(p.getId(), PairKind.JUDGE, t), t + 6000);
        }
      }
      for (long v = 1; v <= 6; v++) {
        Checkpoint c = TinyCheckpoints.write(checkpoints, v, List.of());
        send(producer, TOPICS.checkpoints(), Topics.checkpointKey(v), c, now - (7 - v) * 30_000L);
        double progress = v / 6.0;
        send(producer, TOPICS.evaluations(), Topics.checkpointKey(v), Evaluation.newBuilder().setVersion(v).setSuite("synthetic")
            .setN(2).setK(2).setSamplesPerProblem(2).setGreedyPass1(0.1 + 0.5 * progress).setMajK(0.15 + 0.55 * progress)
            .setPassK(0.3 + 0.6 * progress).setDiversity(0.4 + progress).setCheckpointSha256(c.getSha256())
            .setPerStrategyAccuracy(Map.of("<think1>", 0.2 + 0.5 * progress, "<think2>", 0.1 + 0.4 * progress))
            .setPerStrategyMeanTokens(Map.of("<think1>", 24.0 - v, "<think2>", 30.0 - v)).setCreatedAt(Instant.now()).build(), now);
      }
      producer.flush();
    }
    // A sampler that has read one problem of each partition only: 12 - 3 = 9 behind.
    try (KafkaConsumer<byte[], byte[]> sampler = new KafkaConsumer<>(Map.of("bootstrap.servers", broker.bootstrap(),
        "group.id", "sampler-0"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      Map<TopicPartition, OffsetAndMetadata> one = new HashMap<>();
      for (int p = 0; p < 3; p++) {
        one.put(new TopicPartition(TOPICS.problems().name(), p), new OffsetAndMetadata(1));
      }
      sampler.commitSync(one);
    }
    return source.problem(0).getId();
  }

  /** Every partition of preferences from 0 to its end: what a checkpoint trained on all pairs so far consumed. */
  private static List<OffsetRange> consumedSoFar() {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(RoundTrip.client(broker.bootstrap()),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(TOPICS.preferences().name()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      List<OffsetRange> out = new ArrayList<>();
      c.endOffsets(parts).forEach((tp, end) -> out.add(new OffsetRange(tp.topic(), tp.partition(), 0L, end)));
      return out;
    }
  }

  private static String sampleId(String problemId, int seed) {
    return SampleIds.of(problemId, 6, "<think" + (seed % 2 + 1) + ">", seed);
  }

  private static Reward reward(String problemId, int seed, RewardKind kind, double value, long t) {
    return Reward.newBuilder().setSampleId(sampleId(problemId, seed)).setProblemId(problemId).setKind(kind).setValue(value)
        .setCreatedAt(Instant.ofEpochMilli(t)).build();
  }

  private static PreferencePair pair(String problemId, PairKind kind, long t) {
    return PreferencePair.newBuilder().setPairId("pair-" + problemId + "-" + kind.name().toLowerCase()).setProblemId(problemId)
        .setKind(kind).setPrompt("q").setChosen("#### 1").setRejected("#### 2").setPolicyVersion(6).setMargin(1)
        .setSourceSampleIds(List.of(sampleId(problemId, 1), sampleId(problemId, 0))).setCreatedAt(Instant.ofEpochMilli(t)).build();
  }

  private static <V> RecordMetadata send(KafkaProducer<byte[], byte[]> producer, Topic<String, V> topic, String key, V value,
      long timestamp) throws Exception {
    return producer.send(new ProducerRecord<>(topic.name(), null, timestamp, key.getBytes(StandardCharsets.UTF_8),
        topic.value().serializer().serialize(topic.name(), value))).get();
  }
}
