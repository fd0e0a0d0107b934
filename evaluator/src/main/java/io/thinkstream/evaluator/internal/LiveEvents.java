package io.thinkstream.evaluator.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.sse.SseClient;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The server-sent-event clients of the dashboard. Events are written from one sender thread, so
 * the topic feed never waits on a slow browser, and each client is an async request that holds
 * no server thread between events (Javalin's {@code keepAlive}), so open pages never starve
 * other requests.
 */
public final class LiveEvents implements AutoCloseable {
  private final Set<SseClient> clients = ConcurrentHashMap.newKeySet();
  private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "dashboard-sse");
    t.setDaemon(true);
    return t;
  });
  private final ObjectMapper json;

  public LiveEvents(ObjectMapper json) {
    this.json = json;
  }

  public void add(SseClient client) {
    client.keepAlive();
    client.onClose(() -> clients.remove(client));
    clients.add(client);
    client.sendEvent("hello", "{}");
  }

  public int size() {
    return clients.size();
  }

  /** Sends {@code data} as JSON to every open client under the event name {@code event}. */
  public void send(String event, Object data) {
    String body;
    try {
      body = json.writeValueAsString(data);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write " + event + " as JSON", e);
    }
    sender.execute(() -> {
      for (SseClient client : clients) {
        if (client.terminated()) {
          clients.remove(client);
        } else {
          client.sendEvent(event, body);
        }
      }
    });
  }

  /** Stops sending; the server's stop closes the streams (closing them here as well loops in Javalin's error path). */
  @Override
  public void close() {
    sender.shutdownNow();
    clients.clear();
  }
}
