package io.thinkstream.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * {@code GET /metrics} of one service process in Prometheus' text format: the service's own
 * meters (tagged {@code service=NAME}), the Kafka clients it binds and the JVM's memory, GC,
 * threads and CPU. Started by each service subcommand on {@code metrics.host}:{@code metrics.port}
 * (0 = a free port, printed at start; -1 = no HTTP endpoint, the registry still collects). The JDK
 * server gets its own small executor, so a slow scraper never blocks the service's threads.
 *
 * <p>The sampler and the trainer take {@link #registry()} and bind their own Kafka clients'
 * metrics to it; the rewards service and the ingest are bound here through {@link #bind}.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private final HttpServer server;
  private final ExecutorService executor;
  private final List<AutoCloseable> bound = new ArrayList<>();

  private MetricsEndpoint(PrometheusMeterRegistry registry, HttpServer server, ExecutorService executor) {
    this.registry = registry;
    this.server = server;
    this.executor = executor;
  }

  /** The endpoint of service {@code name} as {@code cfg} configures it. */
  public static MetricsEndpoint start(ThinkstreamConfig cfg, String name) {
    return start(name, cfg.getString(ThinkstreamConfig.METRICS_HOST), cfg.getInt(ThinkstreamConfig.METRICS_PORT));
  }

  /** Binds {@code host:port} (port 0 = any free one, -1 = no endpoint) and starts serving. */
  public static MetricsEndpoint start(String name, String host, int port) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("service", name);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    if (port < 0) {
      MetricsEndpoint off = new MetricsEndpoint(registry, null, null);
      off.bound.add(gc);
      return off;
    }
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
      ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, name + "-metrics");
        t.setDaemon(true);
        return t;
      });
      server.setExecutor(executor);
      server.createContext("/metrics", exchange -> scrape(registry, exchange));
      server.start();
      MetricsEndpoint endpoint = new MetricsEndpoint(registry, server, executor);
      endpoint.bound.add(gc);
      return endpoint;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve /metrics on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  private static void scrape(PrometheusMeterRegistry registry, HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.sendResponseHeaders(200, exchange.getRequestMethod().equals("HEAD") ? -1 : body.length);
      if (!exchange.getRequestMethod().equals("HEAD")) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  /** Where services register their own meters. */
  public MeterRegistry registry() {
    return registry;
  }

  /** The port served, or -1 when the endpoint is off. */
  public int port() {
    return server == null ? -1 : server.getAddress().getPort();
  }

  /** A line saying where to scrape, for the service's start-up output. */
  public String describe() {
    return server == null ? "metrics: off (metrics.port=-1)"
        : "metrics on http://" + server.getAddress().getHostString() + ":" + port() + "/metrics";
  }

  /** Binds a Kafka Streams instance's client and stream metrics. */
  public void bind(KafkaStreams streams) {
    KafkaStreamsMetrics metrics = new KafkaStreamsMetrics(streams);
    metrics.bindTo(registry);
    bound.add(metrics);
  }

  /** Binds a producer's client metrics. */
  public void bind(Producer<?, ?> producer) {
    KafkaClientMetrics metrics = new KafkaClientMetrics(producer);
    metrics.bindTo(registry);
    bound.add(metrics);
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
      executor.shutdownNow();
    }
    for (AutoCloseable b : bound) {
      try {
        b.close();
      } catch (Exception e) {
        // closing a binder only unschedules its refresh: nothing to recover
      }
    }
    registry.close();
  }
}
