package io.thinkstream.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.thinkstream.model.SamplingParams;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The http backend against a small OpenAI-compatible server in the test, and without one. */
class OpenAiHttpBackendTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private HttpServer server;
  private ExecutorService executor;
  private final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
  private final AtomicInteger failFirst = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    executor = Executors.newFixedThreadPool(4);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(executor);
    server.createContext("/v1/completions", exchange -> {
      JsonNode body = JSON.readTree(exchange.getRequestBody());
      byte[] reply;
      int status;
      if (failFirst.getAndDecrement() > 0) {
        status = 503;
        reply = "busy".getBytes(StandardCharsets.UTF_8);
      } else {
        bodies.add(body);
        status = 200;
        String text = "Seed " + body.get("seed").asLong() + " thinks.\n#### 7";
        ObjectNode answer = JSON.createObjectNode();
        ObjectNode choice = answer.putArray("choices").addObject().put("text", text);
        choice.putObject("logprobs").putArray("token_logprobs").add(-0.5).add(-1.0).add(-0.25);
        answer.putObject("usage").put("prompt_tokens", 11).put("completion_tokens", 3);
        reply = JSON.writeValueAsBytes(answer);
      }
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, reply.length);
      exchange.getResponseBody().write(reply);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    executor.shutdownNow();
  }

  private String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private static List<SamplerBackend.Request> requests() {
    return List.of(new SamplerBackend.Request(new Prompt.Turn(List.of(), "Ann has 3 apples.", "<think1>"), 11),
        new SamplerBackend.Request(new Prompt.Prefix("Ann has 3 apples.\n<think2>She eats one.\n"), 12));
  }

  @Test
  void completesEachRequestWithItsSeedAndTheSamplingSettings() {
    SamplerBackend backend = new OpenAiHttpBackend(url(), "policy", 5, Duration.ofSeconds(5), 0);
    SamplingParams params = new SamplingParams(0.7, 0.9, 0, 16, List.of(), List.of());
    SamplerBackend.Batch batch = backend.generate(requests(), params);

    assertEquals(5, batch.policyVersion());
    assertEquals(2, batch.completions().size());
    assertEquals("Seed 11 thinks.\n#### 7", batch.completions().get(0).text());
    assertEquals("Seed 12 thinks.\n#### 7", batch.completions().get(1).text());
    assertEquals(-1.75, batch.completions().get(0).sumLogProb(), 1e-9);
    assertEquals(11, batch.completions().get(0).promptTokens());
    assertEquals(3, batch.completions().get(0).completionTokens());
    JsonNode first = bodies.stream().filter(b -> b.get("seed").asLong() == 11).findFirst().orElseThrow();
    assertEquals("policy", first.get("model").asText());
    assertEquals("Ann has 3 apples.\n<think1>", first.get("prompt").asText());
    assertEquals(1, first.get("n").asInt());
    assertEquals(0.7, first.get("temperature").asDouble(), 1e-9);
    assertEquals(0.9, first.get("top_p").asDouble(), 1e-9);
    assertEquals(16, first.get("max_tokens").asInt());
    assertTrue(first.has("logprobs"));
  }

  @Test
  void retriesAServerErrorWithBackoff() {
    failFirst.set(2);
    SamplerBackend backend = new OpenAiHttpBackend(url(), "policy", 0, Duration.ofSeconds(5), 3);
    SamplerBackend.Batch batch = backend.generate(requests().subList(0, 1), SamplingParams.sample(1.0, 8, -1));
    assertEquals("Seed 11 thinks.\n#### 7", batch.completions().get(0).text());
  }

  @Test
  void failsClearlyNamingTheUrlWhenTheServerIsDown() {
    String url = url();
    server.stop(0);
    SamplerBackend backend = new OpenAiHttpBackend(url, "policy", 0, Duration.ofSeconds(2), 2);
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> backend.generate(requests(), SamplingParams.sample(1.0, 8, -1)));
    assertTrue(e.getMessage().contains(url + "/v1/completions"), e.getMessage());
    assertTrue(e.getMessage().contains("after 3 attempt(s)"), e.getMessage());
  }
}
