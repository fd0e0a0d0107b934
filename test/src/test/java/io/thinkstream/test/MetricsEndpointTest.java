package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.app.MetricsEndpoint;
import io.thinkstream.evaluator.EvaluatorService;
import io.thinkstream.producers.ProblemPublisher;
import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.RewardsApp;
import io.thinkstream.streams.RewardsConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} of each service, as a Prometheus scraper sees it: the service's own
 * meters, its Kafka client (or Kafka Streams) metrics and the JVM's.
 */
class MetricsEndpointTest {
  private static final Topics TOPICS = Topics.withPrefix("metrics.");
  private static EmbeddedBroker broker;

  @TempDir static Path dataDir;
  @TempDir static Path checkpoints;
  @TempDir Path stateDir;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
    RoundTrip.createTopics(broker.bootstrap(), TOPICS);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  @Test
  void theEvaluatorShowsItsEvaluationsAndKafkaClientMetrics() throws Exception {
    TinyCheckpoints.publish(broker.bootstrap(), TOPICS, TinyCheckpoints.write(checkpoints, 1, List.of()));
    try (MetricsEndpoint metrics = MetricsEndpoint.start("evaluator", "127.0.0.1", 0);
         EvaluatorService evaluator = EvaluatorService.start(EvaluatorTest.config(broker.bootstrap(), TOPICS), metrics.registry())) {
      long deadline = System.currentTimeMillis() + 120_000;
      while (evaluator.done().isEmpty()) {
        assertTrue(System.currentTimeMillis() < deadline, "no evaluation after 120 s");
        Thread.sleep(200);
      }
      String body = scrape(metrics.port());
      assertTrue(body.contains("thinkstream_evaluator_evaluations_total{service=\"evaluator\",suite=\"synthetic\"} 1.0"), body);
      assertTrue(body.contains("thinkstream_evaluator_evaluation_seconds_count{"), body);
      assertTrue(body.contains("thinkstream_evaluator_last_version{service=\"evaluator\"} 1.0"), body);
      assertTrue(body.contains("kafka_consumer_fetch_manager_records_consumed_total{"), body);
      assertTrue(body.contains("kafka_producer_record_send_total{"), body);
      assertTrue(body.contains("jvm_memory_used_bytes{"), body);
      assertTrue(body.contains("jvm_threads_live_threads{"), body);
      assertTrue(body.contains("process_cpu_usage{"), body);
    }
  }

  @Test
  void rewardsShowsKafkaStreamsMetricsAndIngestItsProducer() throws Exception {
    RewardsApp app = RewardsApp.start(RewardsApp.Config.of(broker.bootstrap(), TOPICS, Map.of(
        RewardsConfig.APPLICATION_ID, "metrics-rewards", RewardsConfig.STATE_DIR, stateDir.toString()), Map.of()));
    try (app; MetricsEndpoint metrics = MetricsEndpoint.start("rewards", "127.0.0.1", 0)) {
      metrics.bind(app.streams());
      long deadline = System.currentTimeMillis() + 60_000;
      while (app.state() != KafkaStreams.State.RUNNING) {
        assertTrue(System.currentTimeMillis() < deadline, "not RUNNING: " + app.state());
        Thread.sleep(100);
      }
      String body = scrape(metrics.port());
      assertTrue(body.contains("kafka_stream_thread_"), body);
      assertTrue(body.contains("service=\"rewards\""), body);
    }
    try (MetricsEndpoint metrics = MetricsEndpoint.start("ingest", "127.0.0.1", 0);
         ProblemPublisher publisher = new ProblemPublisher(RoundTrip.client(broker.bootstrap()), TOPICS, Clock.systemUTC())) {
      metrics.bind(publisher.producer());
      String body = scrape(metrics.port());
      assertTrue(body.contains("kafka_producer_") && body.contains("service=\"ingest\""), body);
    }
  }

  @Test
  void portMinusOneServesNothingButStillCollects() {
    try (MetricsEndpoint metrics = MetricsEndpoint.start("off", "127.0.0.1", -1)) {
      assertEquals(-1, metrics.port());
      metrics.registry().counter("x").increment();
      assertEquals(1.0, metrics.registry().counter("x").count());
    }
  }

  private static String scrape(int port) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    return response.body();
  }
}
