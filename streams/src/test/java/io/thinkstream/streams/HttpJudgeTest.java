package io.thinkstream.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link HttpJudge} against a real local HTTP server speaking the OpenAI chat completions format. */
class HttpJudgeTest {
  @Test
  void scoresFromTheChatReplyAndTurnsErrorsIntoUnparseable() throws Exception {
    AtomicReference<String> request = new AtomicReference<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
    server.createContext("/v1/chat/completions", exchange -> {
      request.set(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      byte[] reply = request.get().contains("broken")
          ? "{\"choices\":[{\"message\":{\"content\":\"no idea\"}}]}".getBytes(StandardCharsets.UTF_8)
          : "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"Correct.\\nScore: 8\"}}]}"
              .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, reply.length);
      exchange.getResponseBody().write(reply);
      exchange.close();
    });
    server.start();
    try {
      HttpJudge judge = new HttpJudge("http://localhost:" + server.getAddress().getPort() + "/v1", "m",
          Duration.ofSeconds(5));
      assertEquals(new Judge.Scored(8), judge.judge("What is 4+5?", "It is 9.", Optional.of("9")));
      assertTrue(request.get().contains("It is 9.") && request.get().contains("Score: N"), request.get());
      assertInstanceOf(Judge.Unparseable.class, judge.judge("Q", "broken", Optional.empty()));
      HttpJudge nowhere = new HttpJudge("http://localhost:1/v1", "m", Duration.ofSeconds(2));
      assertInstanceOf(Judge.Failed.class, nowhere.judge("Q", "R", Optional.empty()));
    } finally {
      server.stop(0);
    }
  }
}
