package io.thinkstream.app;

import io.thinkstream.streams.RewardsApp;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the rewards service (Kafka Streams, exactly_once_v2) until SIGINT/SIGTERM. */
@Command(name = "rewards", mixinStandardHelpOptions = true,
    description = {"Run the rewards service: verify samples, first-pit exploration, judge, pairs and SFT examples.",
        "Settings: expected.k, group.timeout.ms, max.policy.lag, explore.*, judge.* (see 'thinkstream config')."})
final class RewardsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
  String bootstrap;

  @Option(names = "--metrics-port", description = "Port of /metrics; 0 = a free one, -1 = off (default: metrics.port).")
  Integer metricsPort;

  @Override
  public Integer call() throws Exception {
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
        ThinkstreamConfig.METRICS_PORT, metricsPort));
    TopicsCommand.requireExists(cfg.kafkaClient(), cfg.topics().samples().name());
    try (Admin admin = Admin.create(cfg.kafkaClient())) {
      Optional<String> mismatch = TopicsCommand.coPartitioningProblem(admin, cfg.topics());
      if (mismatch.isPresent()) {
        spec.commandLine().getErr().println("thinkstream rewards: refusing to start: " + mismatch.get());
        return 1;
      }
    }
    RewardsApp app = RewardsApp.start(RewardsApp.Config.of(cfg.bootstrapServers(), cfg.topics(), cfg.originals(),
        cfg.originalsWithPrefix(ThinkstreamConfig.KAFKA_PREFIX)));
    MetricsEndpoint metrics = MetricsEndpoint.start(cfg, "rewards");
    metrics.bind(app.streams());
    CountDownLatch done = new CountDownLatch(1);
    AtomicBoolean failed = new AtomicBoolean();
    // A failed application must stop loudly: exit non-zero so that its supervisor restarts it.
    app.onError(() -> {
      failed.set(true);
      done.countDown();
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.stop();
      metrics.close();
      done.countDown();
    }, "rewards-shutdown"));
    spec.commandLine().getOut().println("rewards running on " + cfg.bootstrapServers() + " (Ctrl-C to stop)");
    spec.commandLine().getOut().println(metrics.describe());
    spec.commandLine().getOut().flush();
    done.await();
    if (failed.get()) {
      spec.commandLine().getErr().println("thinkstream rewards: the streams application failed (state ERROR); see the log");
      return 2;
    }
    return 0;
  }
}
