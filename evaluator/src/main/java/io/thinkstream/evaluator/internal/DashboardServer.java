package io.thinkstream.evaluator.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The dashboard's HTTP side (Javalin on Jetty): the page, its assets from the jar (the chart
 * library from its webjar), {@code /api/state}, {@code /api/lineage/{problemId}} and the
 * {@code /events} stream. SSE clients are async requests, so the bounded thread pool serves
 * plain requests however many pages are open.
 */
public final class DashboardServer implements AutoCloseable {
  private static final String ASSETS = "/io/thinkstream/evaluator/dashboard";

  private final Javalin app;
  private final ObjectMapper json;
  private final String page;

  public DashboardServer(String host, int port, String runName, String topicPrefix, RunState state, LiveEvents live,
      Supplier<List<ConsumerLag.GroupLag>> lag, ObjectMapper json) {
    this.json = json;
    this.page = resource(ASSETS + "/index.html")
        .replace("__RUN__", html(runName))
        .replace("__PREFIX__", html(topicPrefix))
        .replace("__CHARTJS__", "/webjars/chart.js/" + chartJsVersion() + "/dist/chart.umd.js");
    this.app = Javalin.create(config -> {
      config.startup.showJavalinBanner = false;
      config.jetty.host = host;
      config.jetty.port = port;
      QueuedThreadPool threads = new QueuedThreadPool(32, 4, 60_000);
      threads.setName("dashboard-http");
      config.jetty.threadPool = threads;
      config.staticFiles.add(files -> {
        files.hostedPath = "/static";
        files.directory = ASSETS + "/static";
        files.location = Location.CLASSPATH;
      });
      config.staticFiles.enableWebjars();
      config.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(page));
      config.routes.get("/api/state", ctx -> {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("run", runName);
        s.put("bucketMs", RunState.BUCKET_MS);
        s.put("totals", state.totals());
        s.put("evaluations", state.evaluations());
        s.put("checkpoints", state.checkpoints());
        s.put("rates", state.rates());
        s.put("lag", lag.get());
        s.put("recentProblems", state.recentProblems());
        s.put("liveClients", live.size());
        json(ctx, s);
      });
      config.routes.get("/api/lineage/{problemId}", ctx -> {
        var lineage = state.lineage(ctx.pathParam("problemId"));
        if (lineage.isPresent()) {
          json(ctx, lineage.get());
        } else {
          json(ctx.status(404), Map.of("error", "no problem '" + ctx.pathParam("problemId") + "' in this run"));
        }
      });
      config.routes.sse("/events", live::add);
    });
  }

  public DashboardServer start() {
    app.start();
    return this;
  }

  public int port() {
    return app.port();
  }

  private void json(Context ctx, Object value) throws JsonProcessingException {
    ctx.contentType("application/json").result(json.writeValueAsString(value));
  }

  @Override
  public void close() {
    app.stop();
  }

  private static String chartJsVersion() {
    Properties p = new Properties();
    try (InputStream in = DashboardServer.class.getResourceAsStream("/META-INF/maven/org.webjars.npm/chart.js/pom.properties")) {
      if (in == null) {
        throw new IllegalStateException("the chart.js webjar is not on the class path");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p.getProperty("version");
  }

  private static String resource(String name) {
    try (InputStream in = DashboardServer.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("dashboard asset missing from the jar: " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String html(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
  }
}
