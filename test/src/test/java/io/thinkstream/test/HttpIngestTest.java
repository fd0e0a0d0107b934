package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.app.TopicsCommand;
import io.thinkstream.avro.Feedback;
import io.thinkstream.avro.Problem;
import io.thinkstream.producers.HttpIngest;
import io.thinkstream.producers.ProblemPublisher;
import io.thinkstream.schemas.Topics;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTP ingestion of production traffic into a real broker, and the 4xx answers to bad input. */
class HttpIngestTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Topics TOPICS = Topics.withPrefix("http.");
  private static EmbeddedBroker broker;
  private static ProblemPublisher publisher;
  private static HttpIngest ingest;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir static Path dataDir;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
    try (Admin admin = Admin.create(RoundTrip.client(broker.bootstrap()))) {
      TopicsCommand.create(admin, TOPICS, 1, (short) 1, new PrintWriter(System.err, true));
    }
    publisher = new ProblemPublisher(RoundTrip.client(broker.bootstrap()), TOPICS, Clock.systemUTC());
    ingest = new HttpIngest(publisher, TOPICS, "localhost", 0, 4096, Clock.systemUTC());
    ingest.start();
  }

  @AfterAll
  static void stop() {
    ingest.close();
    publisher.close();
    broker.close();
  }

  private static HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + ingest.port() + path))
        .header("Content-Type", "application/json");
    request = body == null ? request.method(method, HttpRequest.BodyPublishers.noBody())
        : request.method(method, HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void problemsAndFeedbackLandOnTheirTopics() throws Exception {
    HttpResponse<String> problem = send("POST", "/problems",
        "{\"id\":\"p-1\",\"question\":\"What is 6*7?\",\"answer\":\"6*7=<<6*7=42>>42\\n#### 42\",\"metadata\":{\"user\":\"u9\"}}");
    assertEquals(202, problem.statusCode(), problem.body());
    JsonNode landed = JSON.readTree(problem.body());
    assertEquals("http.problems", landed.get("topic").asText());
    HttpResponse<String> unlabelled = send("POST", "/problems", "{\"question\":\"Why is the sky blue?\"}");
    assertEquals(202, unlabelled.statusCode(), unlabelled.body());
    HttpResponse<String> feedback = send("POST", "/feedback",
        "{\"responseId\":\"r-1\",\"problemId\":\"p-1\",\"rating\":-1,\"comment\":\"wrong unit\"}");
    assertEquals(202, feedback.statusCode(), feedback.body());

    List<Problem> problems = RoundTrip.readAll(broker.bootstrap(), TOPICS.problems()).stream()
        .map(RoundTrip.Keyed::value).toList();
    Problem labelled = problems.stream().filter(p -> p.getId().equals("http-p-1")).findFirst().orElseThrow();
    assertEquals("42", labelled.getGoldAnswer());
    assertEquals("http", labelled.getSource());
    assertEquals("u9", labelled.getMetadata().get("user"));
    String generatedId = JSON.readTree(unlabelled.body()).get("id").asText();
    Problem other = problems.stream().filter(p -> p.getId().equals(generatedId)).findFirst().orElseThrow();
    assertEquals(null, other.getGoldAnswer());
    List<Feedback> feedbacks = RoundTrip.readAll(broker.bootstrap(), TOPICS.feedback()).stream()
        .map(RoundTrip.Keyed::value).toList();
    assertEquals(1, feedbacks.size());
    assertEquals(-1.0, feedbacks.get(0).getRating());
    assertEquals("wrong unit", feedbacks.get(0).getComment());
  }

  @Test
  void badInputGetsA4xxThatSaysWhy() throws Exception {
    assertError(send("POST", "/problems", "{not json"), 400, "not JSON");
    assertError(send("POST", "/problems", "[1]"), 400, "one JSON object");
    assertError(send("POST", "/problems", "{\"answer\":\"#### 1\"}"), 400, "missing field 'question'");
    assertError(send("POST", "/problems", "{\"question\":\"\"}"), 400, "field 'question' is empty");
    assertError(send("POST", "/problems", "{\"question\":5}"), 400, "must be a string");
    assertError(send("POST", "/problems", ""), 400, "empty body");
    assertError(send("POST", "/problems", "{\"question\":\"" + "x".repeat(5000) + "\"}"), 413, "larger than 4096");
    assertError(send("GET", "/problems", null), 405, "takes POST");
    assertError(send("POST", "/nowhere", "{}"), 404, "no such endpoint");
    assertError(send("POST", "/feedback", "{\"responseId\":\"r\"}"), 400, "missing field 'rating'");
    assertError(send("POST", "/feedback", "{\"responseId\":\"r\",\"rating\":\"good\"}"), 400, "must be a number");
    assertEquals(200, send("GET", "/health", null).statusCode());
  }

  @Test
  void eachBadInputGetsItsStatusAndNothingReachesTheTopic() throws Exception {
    int before = RoundTrip.readAll(broker.bootstrap(), TOPICS.problems()).size();
    assertError(raw("/problems", "application/json", new byte[] {'{', '"', 'q', (byte) 0xC3, 0x28, '"', '}'}), 400,
        "not valid UTF-8");
    // an overlong '"' (C0 A2) must not be read as a quote: strict decoders reject overlong forms
    assertError(raw("/problems", "application/json", bytes("{\"question\":\"a", (byte) 0xC0, (byte) 0xA2, "}")),
        400, "not valid UTF-8");
    assertError(send("POST", "/problems", "{\"id\":\"  \",\"question\":\"q\"}"), 400, "field 'id' is empty");
    assertError(send("POST", "/problems", "{\"question\":\"q\"} {\"question\":\"r\"}"), 400, "not JSON");
    assertError(send("POST", "/problems", "{\"question\":\"q\",\"question\":\"r\"}"), 400, "Duplicate field");
    assertError(raw("/problems", "text/plain", bytes("{\"question\":\"q\"}")), 415, "application/json");
    assertError(raw("/problems", "application/json; charset=ISO-8859-1", bytes("{\"question\":\"q\"}")), 415, "UTF-8");
    assertError(raw("/problems", null, bytes("{\"question\":\"q\"}")), 415, "got none");
    assertError(send("POST", "/problems", "{\"question\":\"q\",\"task\":\"gsm8k\",\"answer\":\"#### seven\"}"), 400,
        "not a number");
    assertEquals(before, RoundTrip.readAll(broker.bootstrap(), TOPICS.problems()).size(), "nothing on problems");
    assertEquals(202, raw("/problems", "application/json; charset=utf-8",
        bytes("{\"id\":\"c-1\",\"question\":\"Q one?\"}")).statusCode());
    assertError(send("POST", "/problems", "{\"id\":\"c-1\",\"question\":\"Another question?\"}"), 409,
        "already used by a different problem");
    assertEquals(202, send("POST", "/problems", "{\"id\":\"c-1\",\"question\":\"Q one?\"}").statusCode(),
        "the same problem again is a retry");
  }

  /**
   * A RuntimeException while handling a valid request (here the ingest's clock fails as the record
   * is built) is answered 500 with a message, not with a closed socket or a request left hanging,
   * and the server goes on answering.
   */
  @Test
  void aRuntimeExceptionInHandlingAnswers500WithAMessage() throws Exception {
    Clock failing = new Clock() {
      @Override
      public java.time.Instant instant() {
        throw new IllegalStateException("clock unavailable");
      }

      @Override
      public java.time.ZoneId getZone() {
        return java.time.ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }
    };
    try (HttpIngest broken = new HttpIngest(publisher, TOPICS, "localhost", 0, 4096, failing)) {
      broken.start();
      for (String[] request : List.of(new String[] {"/problems", "{\"id\":\"boom-1\",\"question\":\"Q?\"}"},
          new String[] {"/feedback", "{\"responseId\":\"boom-r\",\"rating\":1}"})) {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + broken.port() + request[0]))
            .header("Content-Type", "application/json").timeout(java.time.Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(request[1])).build(), HttpResponse.BodyHandlers.ofString());
        assertError(r, 500, "internal error");
        assertError(r, 500, "clock unavailable");
      }
      HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://localhost:" + broken.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode(), "the server still answers after a 500");
    }
    assertTrue(RoundTrip.readAll(broker.bootstrap(), TOPICS.problems()).stream()
        .noneMatch(r -> r.value().getId().equals("http-boom-1")), "a failed request leaves nothing on problems");
    assertTrue(RoundTrip.readAll(broker.bootstrap(), TOPICS.feedback()).stream()
        .noneMatch(r -> r.value().getResponseId().equals("boom-r")), "nor on feedback");
  }

  @Test
  void fiveSlowClientsDoNotDelayASixthRequest() throws Exception {
    List<java.net.Socket> slow = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        java.net.Socket s = new java.net.Socket("localhost", ingest.port());
        // the probe that stalled the JDK server: a large declared body, 10 bytes of it sent
        s.getOutputStream().write(("POST /problems HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + (i % 2 == 0 ? 100_000_000 : 4000) + "\r\n\r\n{\"question").getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        slow.add(s);
      }
      for (int i = 0; i < 5; i++) {
        java.net.Socket s = new java.net.Socket("localhost", ingest.port());
        s.getOutputStream().write("POST /problems HTTP/1.1\r\nHost: x\r\nContent-".getBytes(StandardCharsets.UTF_8));
        slow.add(s); // headers that never end
      }
      Thread.sleep(200);
      long start = System.nanoTime();
      HttpResponse<String> health = send("GET", "/health", null);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertEquals(200, health.statusCode());
      assertTrue(ms < 1000, "health answered after " + ms + " ms");
      HttpResponse<String> problem = send("POST", "/problems", "{\"question\":\"Beside the slow ones?\"}");
      assertEquals(202, problem.statusCode(), problem.body());
      System.err.println("health beside 10 slow clients: " + ms + " ms");
    } finally {
      for (java.net.Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void twoHundredConcurrentRequestsAreAllAcceptedAndAllOnTheTopic() throws Exception {
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> replies = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + ingest.port() + "/problems"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"many-" + i + "\",\"question\":\"Q" + i + "?\"}")).build();
      replies.add(HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
    }
    for (var reply : replies) {
      assertEquals(202, reply.get().statusCode(), reply.get().body());
    }
    java.util.Set<String> ids = new java.util.HashSet<>();
    RoundTrip.readAll(broker.bootstrap(), TOPICS.problems()).forEach(r -> ids.add(r.value().getId()));
    for (int i = 0; i < 200; i++) {
      assertTrue(ids.contains("http-many-" + i), "http-many-" + i + " is not on the topic");
    }
  }

  private static byte[] bytes(Object... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      } else {
        out.write((Byte) p);
      }
    }
    return out.toByteArray();
  }

  private static HttpResponse<String> raw(String path, String contentType, byte[] body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + ingest.port() + path))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertError(HttpResponse<String> response, int status, String message) throws Exception {
    assertEquals(status, response.statusCode(), response.body());
    String error = JSON.readTree(response.body()).get("error").asText();
    assertTrue(error.contains(message), "'" + error + "' should contain '" + message + "'");
  }
}
