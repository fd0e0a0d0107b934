package io.thinkstream.producers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Back-pressure answers of the ingest when Kafka cannot keep up: 429 and 503, with Retry-After. */
class HttpIngestLimitsTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpResponse<String> post(HttpIngest ingest, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + ingest.port() + "/problems"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A publisher whose broker is nowhere: every send fails after max.block.ms. */
  private static ProblemPublisher nowhere() {
    return new ProblemPublisher(Map.of("bootstrap.servers", "localhost:1", "max.block.ms", 300), Topics.DEFAULT,
        Clock.systemUTC());
  }

  @Test
  void kafkaUnavailableIs503WithRetryAfter() throws Exception {
    try (ProblemPublisher publisher = nowhere();
         HttpIngest ingest = new HttpIngest(publisher, Topics.DEFAULT, "localhost", 0, 4096, Clock.systemUTC())) {
      ingest.start();
      HttpResponse<String> r = post(ingest, "{\"question\":\"q?\"}");
      assertEquals(503, r.statusCode(), r.body());
      assertTrue(r.headers().firstValue("Retry-After").isPresent(), r.headers().toString());
    }
  }

  @Test
  void tooManyRecordsInFlightIs429WithRetryAfter() throws Exception {
    HttpIngest.Limits none = new HttpIngest.Limits(8, 16, 16, Duration.ofSeconds(2), Duration.ofSeconds(5), 0,
        Duration.ofSeconds(1), 10);
    try (ProblemPublisher publisher = nowhere();
         HttpIngest ingest = new HttpIngest(publisher, Topics.DEFAULT, "localhost", 0, 4096, Clock.systemUTC(), none)) {
      ingest.start();
      HttpResponse<String> r = post(ingest, "{\"question\":\"q?\"}");
      assertEquals(429, r.statusCode(), r.body());
      assertEquals("1", r.headers().firstValue("Retry-After").orElse(""));
      HttpResponse<String> bad = post(ingest, "{\"question\":\"q?\"} trailing");
      assertEquals(400, bad.statusCode(), "validation comes before back-pressure: " + bad.body());
    }
  }
}
