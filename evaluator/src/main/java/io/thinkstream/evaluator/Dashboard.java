package io.thinkstream.evaluator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.thinkstream.evaluator.internal.ConsumerLag;
import io.thinkstream.evaluator.internal.DashboardServer;
import io.thinkstream.evaluator.internal.LiveEvents;
import io.thinkstream.evaluator.internal.RunState;
import io.thinkstream.evaluator.internal.TopicFeed;
import io.thinkstream.schemas.Topics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live dashboard of one run, served by the evaluator process ({@code --dashboard-port}):
 * accuracy per checkpoint version and suite, reward and pair rates by kind, lag per consumer
 * group, strategy diversity, and the lineage of a problem from its samples to the checkpoints
 * trained on its pairs. State is rebuilt at start by reading the retained topics; new
 * evaluations and checkpoints reach open pages as server-sent events, and every
 * {@code dashboard.lag.interval.ms} a tick carries rates, totals and lag.
 */
public final class Dashboard implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Dashboard.class);

  private final TopicFeed feed;
  private final ConsumerLag lag;
  private final LiveEvents live;
  private final DashboardServer server;
  private final ScheduledExecutorService ticker;
  private final KafkaClientMetrics feedMetrics;

  private Dashboard(TopicFeed feed, ConsumerLag lag, LiveEvents live, DashboardServer server,
      ScheduledExecutorService ticker, KafkaClientMetrics feedMetrics) {
    this.feed = feed;
    this.lag = lag;
    this.live = live;
    this.server = server;
    this.ticker = ticker;
    this.feedMetrics = feedMetrics;
  }

  /** Starts reading the run's topics and serving the page; {@code runName} is shown in the title. */
  public static Dashboard start(Map<String, Object> kafka, Topics topics, EvaluatorConfig.Dashboard settings,
      String runName, MeterRegistry registry) {
    ObjectMapper json = new ObjectMapper();
    RunState state = new RunState(settings.lineageProblems());
    LiveEvents live = new LiveEvents(json);
    TopicFeed feed = new TopicFeed(kafka, topics, state, live);
    KafkaClientMetrics feedMetrics = new KafkaClientMetrics(feed.consumer());
    feedMetrics.bindTo(registry);
    registry.gauge("thinkstream.dashboard.live.clients", live, LiveEvents::size);
    ConsumerLag lag = new ConsumerLag(kafka, topics);
    AtomicReference<List<ConsumerLag.GroupLag>> lastLag = new AtomicReference<>(List.of());
    String prefix = topics.problems().name().substring(0, topics.problems().name().length() - "problems".length());
    DashboardServer server = new DashboardServer(settings.host(), settings.port(), runName, prefix, state, live,
        lastLag::get, json);
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "dashboard-lag");
      t.setDaemon(true);
      return t;
    });
    ticker.scheduleWithFixedDelay(() -> {
      try {
        lastLag.set(lag.measure());
      } catch (Exception e) {
        LOG.debug("consumer lag not measured: {}", e.toString());
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
      }
      live.send("tick", Map.of("rates", state.rates(), "totals", state.totals(), "lag", lastLag.get(),
          "recentProblems", state.recentProblems()));
    }, 0, settings.lagInterval().toMillis(), TimeUnit.MILLISECONDS);
    feed.start();
    server.start();
    return new Dashboard(feed, lag, live, server, ticker, feedMetrics);
  }

  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    server.close();
    live.close();
    feed.close();
    feedMetrics.close();
    lag.close();
  }
}
