package io.thinkstream.producers;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.thinkstream.avro.Feedback;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.schemas.text.FinalAnswer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BlockingArrayQueue;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
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
 *
 * <p>It runs on Jetty's core server, which parses headers and reads bodies without holding a
 * thread, so slow clients cost a connection each, not a worker (on the JDK server five clients
 * trickling bodies stalled even the health check). Everything is bounded: worker threads and their
 * queue, connections, the idle time of a header or body read, the whole request, the records in
 * flight to Kafka (beyond it: 429) and the wait for Kafka's acknowledgement (beyond it: 503), both
 * with {@code Retry-After}. Bodies are decoded as strict UTF-8 (overlong forms included) and as one
 * JSON object with no duplicate keys and nothing after it, like the JSONL source. Problem ids are
 * namespaced ({@code http-<client id>}, or derived from the content), and an id already used for a
 * different question (within this process's memory of recent ids) is refused with 409.
 */
public final class HttpIngest implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpIngest.class);
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  /** Room in a producer request for the record's key, headers and Avro framing beside the body. */
  private static final int RECORD_OVERHEAD = 16 * 1024;

  /** The server's bounds; {@link #defaults()} suits one ingest process. */
  public record Limits(int threads, int queue, int maxConnections, Duration idleTimeout, Duration requestTimeout,
      int maxInFlight, Duration publishTimeout, int rememberedIds) {
    public static Limits defaults() {
      return new Limits(32, 256, 1024, Duration.ofSeconds(5), Duration.ofSeconds(15), 256, Duration.ofSeconds(5),
          100_000);
    }
  }

  private final ProblemPublisher publisher;
  private final Topics topics;
  private final int maxBodyBytes;
  private final Clock clock;
  private final Limits limits;
  private final Server server;
  private final ServerConnector connector;
  private final Semaphore inFlight;
  /** Recent problem ids and the hash of their content, to refuse an id reused for another problem. */
  private final Map<String, String> recentIds;

  /** A request the client must fix (or retry): answered with {@code status} and the message. */
  static final class BadRequest extends Exception {
    final int status;

    BadRequest(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  public HttpIngest(ProblemPublisher publisher, Topics topics, String host, int port, int maxBodyBytes, Clock clock) {
    this(publisher, topics, host, port, maxBodyBytes, clock, Limits.defaults());
  }

  public HttpIngest(ProblemPublisher publisher, Topics topics, String host, int port, int maxBodyBytes, Clock clock,
      Limits limits) {
    int producible = publisher.maxRequestSize() - RECORD_OVERHEAD;
    if (maxBodyBytes > producible) {
      // an accepted body must never fail later at the producer (that was a 503 for a valid request)
      LOG.warn("http body limit {} lowered to {}: the producer's max.request.size is {}", maxBodyBytes, producible,
          publisher.maxRequestSize());
    }
    this.publisher = publisher;
    this.topics = topics;
    this.maxBodyBytes = Math.min(maxBodyBytes, producible);
    this.clock = clock;
    this.limits = limits;
    this.inFlight = new Semaphore(limits.maxInFlight());
    this.recentIds = java.util.Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
        return size() > limits.rememberedIds();
      }
    });
    QueuedThreadPool pool = new QueuedThreadPool(limits.threads(), Math.min(8, limits.threads()), 60_000,
        new BlockingArrayQueue<>(limits.queue()));
    pool.setName("http-ingest");
    pool.setDaemon(true);
    this.server = new Server(pool);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setRequestHeaderSize(16 * 1024);
    this.connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    connector.setHost(host);
    connector.setPort(port);
    connector.setIdleTimeout(limits.idleTimeout().toMillis()); // a header or body read that stalls this long fails
    server.addConnector(connector);
    server.addBean(new NetworkConnectionLimit(limits.maxConnections(), server));
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        HttpIngest.this.handle(request, response, callback);
        return true;
      }
    });
  }

  public void start() throws IOException {
    try {
      server.start();
    } catch (Exception e) {
      throw new IOException("cannot start the HTTP server on " + connector.getHost() + ":" + connector.getPort()
          + ": " + e.getMessage(), e);
    }
  }

  /** The bound port (useful when started on port 0). */
  public int port() {
    return connector.getLocalPort();
  }

  private void handle(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    try {
      switch (path) {
        case "/health" -> {
          requireMethod(request, response, "GET");
          respond(response, callback, 200, JSON.createObjectNode().put("status", "ok"));
        }
        case "/problems", "/feedback" -> {
          requireMethod(request, response, "POST");
          requireJson(request);
          long declared = request.getLength();
          if (declared > maxBodyBytes) {
            throw new BadRequest(413, "body larger than " + maxBodyBytes + " bytes");
          }
          // read without holding a thread; the connector's idle timeout bounds a stalled body
          Content.Source.asByteArrayAsync(request, maxBodyBytes + 1)
              .orTimeout(limits.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
              .whenComplete((bytes, failure) -> {
                if (failure != null) {
                  fail(response, callback, path, unwrap(failure));
                } else {
                  record(path, bytes, response, callback);
                }
              });
        }
        default -> throw new BadRequest(404, "no such endpoint " + path + "; use POST /problems or POST /feedback");
      }
    } catch (BadRequest e) {
      respond(response, callback, e.status, JSON.createObjectNode().put("error", e.getMessage()));
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", request.getMethod(), path, e);
      respond(response, callback, 500, JSON.createObjectNode().put("error", "internal error: " + e));
    }
  }

  /** Decodes, validates and produces one body; answers 202, a 4xx, 429/503 or 500. */
  private void record(String path, byte[] bytes, Response response, Callback callback) {
    try {
      if (bytes.length > maxBodyBytes) {
        throw new BadRequest(413, "body larger than " + maxBodyBytes + " bytes");
      }
      JsonNode body = parse(bytes);
      if (!inFlight.tryAcquire()) {
        response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        throw new BadRequest(429, limits.maxInFlight() + " records already on their way to Kafka: retry later");
      }
      try {
        ObjectNode reply = path.equals("/problems") ? problem(body) : feedback(body);
        respond(response, callback, 202, reply);
      } finally {
        inFlight.release();
      }
    } catch (BadRequest e) {
      respond(response, callback, e.status, JSON.createObjectNode().put("error", e.getMessage()));
    } catch (TimeoutException e) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, "5");
      respond(response, callback, 503, JSON.createObjectNode().put("error", "Kafka did not acknowledge within "
          + limits.publishTimeout().toMillis() + " ms: retry later"));
    } catch (IOException e) {
      LOG.warn("POST {} failed: {}", path, e.getMessage());
      response.getHeaders().put(HttpHeader.RETRY_AFTER, "5");
      respond(response, callback, 503, JSON.createObjectNode().put("error", "could not store the record: " + e.getMessage()));
    } catch (RuntimeException e) {
      LOG.error("POST {} failed", path, e);
      respond(response, callback, 500, JSON.createObjectNode().put("error", "internal error: " + e));
    }
  }

  private void fail(Response response, Callback callback, String path, Throwable failure) {
    if (failure instanceof TimeoutException) {
      respond(response, callback, 408, JSON.createObjectNode().put("error", "request not received within "
          + limits.requestTimeout().toMillis() + " ms"));
    } else if (failure instanceof IllegalArgumentException || String.valueOf(failure.getMessage()).contains("too large")) {
      respond(response, callback, 413, JSON.createObjectNode().put("error", "body larger than " + maxBodyBytes + " bytes"));
    } else {
      // the client went away or stalled past the idle timeout: the answer is for the log
      LOG.debug("POST {}: body not read: {}", path, failure.toString());
      respond(response, callback, 400, JSON.createObjectNode().put("error", "body not read: " + failure.getMessage()));
    }
  }

  private ObjectNode problem(JsonNode body) throws BadRequest, IOException, TimeoutException {
    String question = requiredText(body, "question").strip();
    String clientId = optionalText(body, "id");
    String task = optionalText(body, "task");
    String answer = optionalText(body, "answer");
    if (clientId != null && clientId.isBlank()) {
      throw new BadRequest(400, "field 'id' is empty: omit it to have one derived from the content");
    }
    String contentHash = sha256(question + '\u0000' + (answer == null ? "" : answer)).substring(0, 16);
    String id = clientId != null ? "http-" + clientId.strip() : "http-" + contentHash;
    String before = recentIds.putIfAbsent(id, contentHash);
    if (before != null && !before.equals(contentHash)) {
      throw new BadRequest(409, "id '" + clientId + "' is already used by a different problem");
    }
    String resolvedTask = task != null ? task : "production";
    Problem.Builder problem = Problem.newBuilder()
        .setId(id)
        .setSource("http")
        .setQuestion(question)
        .setTask(resolvedTask)
        .setMetadata(stringMap(body, "metadata"))
        .setCreatedAt(clock.instant());
    if (answer != null) {
      Gsm8kSolution solution = Gsm8kSolution.parse(answer);
      String gold = solution.finalAnswer().orElse(answer).replace(",", "").strip();
      if (numeric(resolvedTask) && FinalAnswer.normalise(gold).isEmpty()) {
        recentIds.remove(id, contentHash);
        throw new BadRequest(400, "answer '" + gold + "' is not a number, and task '" + resolvedTask
            + "' is verified numerically");
      }
      problem.setGoldAnswer(gold);
      if (solution.finalAnswer().isPresent()) {
        problem.setSolutions(List.of(new Solution("reference", answer)));
      }
    }
    Problem built = problem.build();
    RecordMetadata md = publisher.sendAndWait(topics.problems(), built.getId(), built, limits.publishTimeout());
    return landed(built.getId(), md);
  }

  /** Tasks whose gold answers the verifier compares as numbers. */
  private static boolean numeric(String task) {
    return task.equals("gsm8k") || task.equals("arithmetic");
  }

  private ObjectNode feedback(JsonNode body) throws BadRequest, IOException, TimeoutException {
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
    RecordMetadata md = publisher.sendAndWait(topics.feedback(), responseId, feedback, limits.publishTimeout());
    return landed(responseId, md);
  }

  private static ObjectNode landed(String id, RecordMetadata md) {
    return JSON.createObjectNode().put("id", id).put("topic", md.topic())
        .put("partition", md.partition()).put("offset", md.offset());
  }

  private static void requireJson(Request request) throws BadRequest {
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    if (type == null) {
      throw new BadRequest(415, "Content-Type must be application/json, got none");
    }
    String[] parts = type.split(";");
    boolean json = parts[0].strip().equalsIgnoreCase("application/json");
    boolean charsetOk = true;
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].strip().toLowerCase(Locale.ROOT);
      if (p.startsWith("charset=")) {
        String charset = p.substring("charset=".length()).replace("\"", "");
        charsetOk &= charset.equals("utf-8") || charset.equals("utf8");
      }
    }
    if (!json || !charsetOk) {
      throw new BadRequest(415, "Content-Type must be application/json (charset UTF-8 if any), got " + type);
    }
  }

  private static JsonNode parse(byte[] bytes) throws BadRequest {
    if (bytes.length == 0) {
      throw new BadRequest(400, "empty body: send one JSON object");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new BadRequest(400, "body is not valid UTF-8: " + e.getMessage());
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new BadRequest(400, "body is not JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new BadRequest(400, "body must be one JSON object");
    }
    return node;
  }

  private static void requireMethod(Request request, Response response, String method) throws BadRequest {
    if (!request.getMethod().equalsIgnoreCase(method)) {
      response.getHeaders().put(HttpHeader.ALLOW, method);
      throw new BadRequest(405, Request.getPathInContext(request) + " takes " + method + ", not " + request.getMethod());
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

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private static void respond(Response response, Callback callback, int status, ObjectNode body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      bytes = "{\"error\":\"unwritable reply\"}".getBytes(StandardCharsets.UTF_8);
      status = 500;
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, ByteBuffer.wrap(bytes), callback);
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      LOG.warn("stopping the HTTP server: {}", e.toString());
    }
  }
}
