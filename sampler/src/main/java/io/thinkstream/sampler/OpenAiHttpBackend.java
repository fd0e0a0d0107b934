package io.thinkstream.sampler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.thinkstream.model.SamplingParams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Completions from an OpenAI-compatible server (vLLM, llama.cpp, TGI): one
 * {@code POST {url}/v1/completions} per sequence, all of a batch in flight at once, each with its
 * own seed so a retry draws the same text where the server honours seeds. The server tokenizes,
 * so prompts go as text; its model is whatever it serves, named here by a fixed policy version.
 */
public final class OpenAiHttpBackend implements SamplerBackend {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);

  private final URI endpoint;
  private final String model;
  private final long policyVersion;
  private final Duration timeout;
  private final int retries;
  private final HttpClient client;

  public OpenAiHttpBackend(String url, String model, long policyVersion, Duration timeout, int retries) {
    String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.endpoint = URI.create(base + "/v1/completions");
    this.model = model;
    this.policyVersion = policyVersion;
    this.timeout = timeout;
    this.retries = retries;
    this.client = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  public Batch generate(List<Request> requests, SamplingParams params) {
    List<CompletableFuture<Completion>> calls = new ArrayList<>();
    for (Request r : requests) {
      calls.add(call(body(r, params), 0));
    }
    List<Completion> out = new ArrayList<>();
    try {
      for (CompletableFuture<Completion> c : calls) {
        out.add(c.join());
      }
    } catch (CompletionException e) {
      calls.forEach(c -> c.cancel(true));
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    }
    return new Batch(policyVersion, out);
  }

  @Override
  public int eosId() {
    return -1;
  }

  private String body(Request r, SamplingParams params) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", model);
    body.put("prompt", r.prompt().text());
    body.put("n", 1);
    body.put("temperature", params.temperature());
    body.put("top_p", params.topP());
    if (params.topK() > 0) {
      body.put("top_k", params.topK()); // not OpenAI's, but vLLM and llama.cpp read it
    }
    body.put("seed", r.seed());
    body.put("max_tokens", params.maxNewTokens());
    body.put("logprobs", 1);
    if (!params.stopStrings().isEmpty()) {
      params.stopStrings().forEach(body.putArray("stop")::add);
    }
    return body.toString();
  }

  /** One call, retried with exponential backoff on connection errors, timeouts and 5xx/429. */
  private CompletableFuture<Completion> call(String body, int attempt) {
    HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(timeout)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .handle((response, error) -> {
          if (error == null && response.statusCode() == 200) {
            return CompletableFuture.completedFuture(parse(response.body()));
          }
          boolean retryable = error != null || response.statusCode() >= 500 || response.statusCode() == 429;
          String why = error != null ? error.getClass().getSimpleName() + ": " + error.getMessage()
              : "HTTP " + response.statusCode() + ": " + abbreviate(response.body());
          if (!retryable || attempt >= retries) {
            return CompletableFuture.<Completion>failedFuture(new UncheckedIOException(new IOException(
                "completion server " + endpoint + " failed after " + (attempt + 1) + " attempt(s): " + why)));
          }
          Duration wait = FIRST_BACKOFF.multipliedBy(1L << Math.min(attempt, 10));
          return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(wait.toMillis(),
              java.util.concurrent.TimeUnit.MILLISECONDS)).thenCompose(ignored -> call(body, attempt + 1));
        })
        .thenCompose(f -> f);
  }

  private Completion parse(String body) {
    try {
      JsonNode json = JSON.readTree(body);
      JsonNode choice = json.path("choices").path(0);
      if (choice.isMissingNode()) {
        throw new IllegalStateException("completion server " + endpoint + " answered without choices: " + abbreviate(body));
      }
      double sum = 0;
      int counted = 0;
      for (JsonNode lp : choice.path("logprobs").path("token_logprobs")) {
        if (lp.isNumber()) {
          sum += lp.asDouble();
          counted++;
        }
      }
      JsonNode usage = json.path("usage");
      return new Completion(choice.path("text").asText(""), sum, new int[0], usage.path("prompt_tokens").asInt(0),
          usage.path("completion_tokens").asInt(counted));
    } catch (IOException e) {
      throw new UncheckedIOException("completion server " + endpoint + " answered with invalid JSON: " + abbreviate(body), e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
