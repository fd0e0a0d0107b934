package io.thinkstream.streams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An LLM judge behind an OpenAI-compatible chat completions endpoint ({@code POST
 * <base>/chat/completions}). The rubric asks for a line {@code Score: N} from 0 to 10; a reply
 * without one is {@link Judge.Unparseable}, which makes the response the rejected side; no reply
 * (an I/O error, a timeout, HTTP 429 or 5xx) is {@link Judge.Failed}, which the worker retries.
 */
public final class HttpJudge implements Judge {
  static final String RUBRIC = """
      You are grading the response of an assistant to a user's question. You see the question and the \
      final response only. Judge correctness first, then clarity and helpfulness. Do not reward length. \
      End your reply with one line of the form 'Score: N' where N is a number from 0 (useless or wrong) \
      to 10 (correct, clear and complete).""";
  private static final Pattern SCORE = Pattern.compile("(?i)score\\s*[:=]\\s*(\\d+(?:\\.\\d+)?)");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI endpoint;
  private final String model;
  private final Duration timeout;
  private final HttpClient client;

  /** {@code baseUrl} like {@code http://localhost:8000/v1}. */
  public HttpJudge(String baseUrl, String model, Duration timeout) {
    this.endpoint = URI.create(baseUrl.replaceAll("/+$", "") + "/chat/completions");
    this.model = model;
    this.timeout = timeout;
    this.client = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  public String id() {
    return "http:" + model;
  }

  @Override
  public Judgement judge(String prompt, String response, Optional<String> gold) {
    try {
      HttpResponse<String> reply = client.send(HttpRequest.newBuilder(endpoint)
          .timeout(timeout)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body(prompt, response)))
          .build(), HttpResponse.BodyHandlers.ofString());
      if (reply.statusCode() == 429 || reply.statusCode() / 100 == 5) {
        return new Failed("HTTP " + reply.statusCode() + ": " + reply.body());
      }
      if (reply.statusCode() / 100 != 2) {
        return new Unparseable("HTTP " + reply.statusCode() + ": " + reply.body());
      }
      JsonNode content = JSON.readTree(reply.body()).path("choices").path(0).path("message").path("content");
      return parse(content.asText(""));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return new Unparseable("not JSON: " + e.getOriginalMessage());
    } catch (java.net.http.HttpTimeoutException e) {
      return new Failed("timed out after " + timeout.toMillis() + " ms (" + e.getMessage() + ")");
    } catch (IOException e) {
      return new Failed(e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Failed("interrupted");
    }
  }

  /** The request body: the rubric, then the question and the response (never the thought). */
  String body(String prompt, String response) {
    ObjectNode body = JSON.createObjectNode().put("model", model).put("temperature", 0.0);
    body.putArray("messages")
        .add(JSON.createObjectNode().put("role", "system").put("content", RUBRIC))
        .add(JSON.createObjectNode().put("role", "user")
            .put("content", "Question:\n" + prompt + "\n\nResponse:\n" + response));
    return body.toString();
  }

  static Judgement parse(String output) {
    Matcher m = SCORE.matcher(output);
    Double last = null;
    while (m.find()) {
      last = Double.parseDouble(m.group(1));
    }
    return last == null || last > 10 ? new Unparseable(output) : new Scored(last);
  }
}
