package io.thinkstream.producers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.thinkstream.avro.Feedback;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP ingestion of production traffic: {@code POST /problems} and {@code POST /feedback} take one
 * JSON object each and answer 202 with where the record landed once Kafka acknowledged it. Bad
 * input gets a 4xx with a message saying what is wrong; {@code GET /health} answers 200.
 *
 * <pre>
 * POST /problems {"question": "...", "answer": "... #### 42" | "42", "id": "...", "task": "...", "metadata": {...}}
 * POST /feedback {"responseId": "...", "rating": 1, "problemId": "...", "comment": "..."}
 * </pre>
 */
public final class HttpIngest implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpIngest.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ProblemPublisher publisher;
  private final Topics topics;
  private final int maxBodyBytes;
  private final Clock clock;
  private final HttpServer server;
  private final ExecutorService executor;

  /** A request the client must fix: answered with {@code status} and the message. */
  static final class BadRequest extends Exception {
    final int status;

    BadRequest(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  public HttpIngest(ProblemPublisher publisher, Topics topics, String host, int port, int maxBodyBytes, Clock clock)
      throws IOException {
    this.publisher = publisher;
    this.topics = topics;
    this.maxBodyBytes = maxBodyBytes;
    this.clock = clock;
    this.server = HttpServer.create(new InetSocketAddress(host, port), 64);
    this.executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "http-ingest");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
  }

  public void start() {
    server.start();
  }

  /** The bound port (useful when started on port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String method = exchange.getRequestMethod();
    try (exchange) {
      try {
        ObjectNode reply = switch (path) {
          case "/health" -> {
            requireMethod(exchange, "GET");
            yield JSON.createObjectNode().put("status", "ok");
          }
          case "/problems" -> {
            requireMethod(exchange, "POST");
            yield problem(body(exchange));
          }
          case "/feedback" -> {
            requireMethod(exchange, "POST");
            yield feedback(body(exchange));
          }
          default -> throw new BadRequest(404, "no such endpoint " + path + "; use POST /problems or POST /feedback");
        };
        respond(exchange, path.equals("/health") ? 200 : 202, reply);
      } catch (BadRequest e) {
        respond(exchange, e.status, JSON.createObjectNode().put("error", e.getMessage()));
      } catch (IOException e) {
        LOG.warn("{} {} failed: {}", method, path, e.getMessage());
        respond(exchange, 503, JSON.createObjectNode().put("error", "could not store the record: " + e.getMessage()));
      }
    }
  }

  private ObjectNode problem(JsonNode body) throws BadRequest, IOException {
    String question = requiredText(body, "question");
    String id = optionalText(body, "id");
    String task = optionalText(body, "task");
    String answer = optionalText(body, "answer");
    Problem.Builder problem = Problem.newBuilder()
        .setId(id != null ? id : "http-" + UUID.randomUUID())
        .setSource("http")
        .setQuestion(question.strip())
        .setTask(task != null ? task : "production")
        .setMetadata(stringMap(body, "metadata"))
        .setCreatedAt(clock.instant());
    if (answer != null) {
      Gsm8kSolution solution = Gsm8kSolution.parse(answer);
      if (solution.finalAnswer().isPresent()) {
        problem.setGoldAnswer(solution.finalAnswer().get().replace(",", "").strip());
        problem.setSolutions(List.of(new Solution("reference", answer)));
      } else {
        problem.setGoldAnswer(answer.strip());
      }
    }
    Problem built = problem.build();
    RecordMetadata md = publisher.send(built);
    return landed(built.getId(), md);
  }

  private ObjectNode feedback(JsonNode body) throws BadRequest, IOException {
    String responseId = requiredText(body, "responseId");
    JsonNode rating = body.get("rating");
    if (rating == null || rating.isNull()) {
      throw new BadRequest(400, "missing field 'rating' (a number, e.g. 1 or -1)");
    }
    if (!rating.isNumber() || !Double.isFinite(rating.asDouble())) {
      throw new BadRequest(400, "field 'rating' must be a number, got " + rating);
    }
    Feedback feedback = Feedback.newBuilder()
        .setResponseId(responseId)
        .setProblemId(optionalText(body, "problemId"))
        .setRating(rating.asDouble())
        .setComment(optionalText(body, "comment"))
        .setCreatedAt(clock.instant())
        .build();
    RecordMetadata md = publisher.sendAndWait(topics.feedback(), responseId, feedback);
    return landed(responseId, md);
  }

  private static ObjectNode landed(String id, RecordMetadata md) {
    return JSON.createObjectNode().put("id", id).put("topic", md.topic())
        .put("partition", md.partition()).put("offset", md.offset());
  }

  private JsonNode body(HttpExchange exchange) throws BadRequest, IOException {
    String type = exchange.getRequestHeaders().getFirst("Content-Type");
    if (type != null && !type.toLowerCase().startsWith("application/json")) {
      throw new BadRequest(415, "Content-Type must be application/json, got " + type);
    }
    byte[] bytes;
    try (InputStream in = exchange.getRequestBody()) {
      bytes = in.readNBytes(maxBodyBytes + 1);
    }
    if (bytes.length > maxBodyBytes) {
      throw new BadRequest(413, "body larger than " + maxBodyBytes + " bytes");
    }
    if (bytes.length == 0) {
      throw new BadRequest(400, "empty body: send one JSON object");
    }
    JsonNode node;
    try {
      node = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw new BadRequest(400, "body is not JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new BadRequest(400, "body must be one JSON object");
    }
    return node;
  }

  private static void requireMethod(HttpExchange exchange, String method) throws BadRequest {
    if (!exchange.getRequestMethod().equalsIgnoreCase(method)) {
      exchange.getResponseHeaders().set("Allow", method);
      throw new BadRequest(405, exchange.getRequestURI().getPath() + " takes " + method
          + ", not " + exchange.getRequestMethod());
    }
  }

  private static String requiredText(JsonNode body, String field) throws BadRequest {
    String value = optionalText(body, field);
    if (value == null || value.isBlank()) {
      throw new BadRequest(400, value == null ? "missing field '" + field + "'" : "field '" + field + "' is empty");
    }
    return value;
  }

  private static String optionalText(JsonNode body, String field) throws BadRequest {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      throw new BadRequest(400, "field '" + field + "' must be a string, got " + node.getNodeType());
    }
    return node.asText();
  }

  private static Map<String, String> stringMap(JsonNode body, String field) throws BadRequest {
    JsonNode node = body.get(field);
    Map<String, String> map = new HashMap<>();
    if (node == null || node.isNull()) {
      return map;
    }
    if (!node.isObject()) {
      throw new BadRequest(400, "field '" + field + "' must be an object of strings");
    }
    for (var it = node.fields(); it.hasNext(); ) {
      var e = it.next();
      map.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
    }
    return map;
  }

  private static void respond(HttpExchange exchange, int status, ObjectNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
  }
}
