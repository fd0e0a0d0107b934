package io.thinkstream.app;

import io.thinkstream.evaluator.Dashboard;
import io.thinkstream.evaluator.EvaluatorConfig;
import io.thinkstream.evaluator.EvaluatorService;
import io.thinkstream.evaluator.Suite;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the evaluator (one evaluation per checkpoint version and suite) until SIGINT/SIGTERM. */
@Command(name = "evaluator", mixinStandardHelpOptions = true,
    description = {"Evaluate every checkpoint event on the held-out suites and publish to 'evaluations'.",
        "Settings: evaluator.suites, evaluator.synthetic.size, evaluator.gsm8k.file, evaluator.gsm8k.size,",
        "evaluator.k, evaluator.samples, evaluator.temperature, metrics.port (see 'thinkstream config')."})
final class EvaluatorCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
  String bootstrap;

  @Option(names = "--dashboard-port", description = "Port of the dashboard; 0 = a free one, -1 = off (default: dashboard.port).")
  Integer dashboardPort;

  @Option(names = "--metrics-port", description = "Port of /metrics; 0 = a free one, -1 = off (default: metrics.port).")
  Integer metricsPort;

  @Override
  public Integer call() throws Exception {
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(
        ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
        ThinkstreamConfig.METRICS_PORT, metricsPort,
        EvaluatorConfig.DASHBOARD_PORT, dashboardPort));
    TopicsCommand.requireExists(cfg.kafkaClient(), cfg.topics().checkpoints().name());
    TopicsCommand.requireExists(cfg.kafkaClient(), cfg.topics().evaluations().name());
    EvaluatorConfig evaluatorConfig = new EvaluatorConfig(cfg.originals());
    EvaluatorConfig.Settings settings = evaluatorConfig.settings();
    EvaluatorConfig.Dashboard dashboardSettings = evaluatorConfig.dashboard();
    List<Suite> suites = Suite.of(settings, cfg.synthetic());
    PrintWriter out = spec.commandLine().getOut();
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.countDown();
      try {
        stopped.await(90, TimeUnit.SECONDS); // let the service finish its transaction and close
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "evaluator-shutdown"));
    try (MetricsEndpoint metrics = MetricsEndpoint.start(cfg, "evaluator");
         EvaluatorService service = EvaluatorService.start(
             new EvaluatorService.Config(cfg.kafkaClient(), cfg.topics(), settings, suites), metrics.registry());
         Dashboard dashboard = dashboardSettings.port() < 0 ? null
             : Dashboard.start(cfg.kafkaClient(), cfg.topics(), dashboardSettings, runName(cfg, dashboardSettings), metrics.registry())) {
      out.println("evaluator running on " + cfg.bootstrapServers() + ": suites "
          + suites.stream().map(s -> s.name() + " (" + s.problems().size() + " problems)").toList()
          + ", k=" + settings.k() + ", n=" + settings.samples() + "; " + service.done().size()
          + " (version, suite) evaluations already done (Ctrl-C to stop)");
      out.println(dashboard == null ? "dashboard: off (dashboard.port=-1)"
          : "dashboard on http://" + dashboardSettings.host() + ":" + dashboard.port() + "/");
      out.println(metrics.describe());
      out.flush();
      while (!stop.await(1, TimeUnit.SECONDS)) {
        if (!service.isRunning()) {
          spec.commandLine().getErr().println("thinkstream evaluator: the service stopped (see the log)");
          return 1;
        }
      }
    } finally {
      stopped.countDown();
    }
    return 0;
  }

  /** The run's name in the dashboard title: dashboard.run.name, else the topic prefix. */
  private static String runName(ThinkstreamConfig cfg, EvaluatorConfig.Dashboard settings) {
    if (!settings.runName().isBlank()) {
      return settings.runName();
    }
    String prefix = cfg.getString(ThinkstreamConfig.TOPIC_PREFIX);
    return prefix.isEmpty() ? "default run (no topic prefix)" : prefix;
  }
}
