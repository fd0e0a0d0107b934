package io.thinkstream.app;

import io.thinkstream.trainer.Trainer;
import io.thinkstream.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the trainer until SIGINT/SIGTERM (or trainer.max.steps): micro-batches in, checkpoints out. */
@Command(name = "trainer", mixinStandardHelpOptions = true,
    description = {"Run the trainer: consume preferences and sft-examples, train, write checkpoints OUT/v{N}/.",
        "Resumes from the newest complete checkpoint in --out. Settings: trainer.* (see 'thinkstream config')."})
final class TrainerCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
  String bootstrap;

  @Option(names = "--init", required = true, paramLabel = "DIR", description = "The initial checkpoint (and DPO reference).")
  Path init;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where checkpoints v{N}/ are written.")
  Path out;

  @Option(names = "--metrics-port", description = "Port of /metrics; 0 = a free one, -1 = off (default: metrics.port).")
  Integer metricsPort;

  @Override
  public Integer call() {
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
        ThinkstreamConfig.METRICS_PORT, metricsPort));
    MetricsEndpoint metrics = MetricsEndpoint.start(cfg, "trainer");
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.set(true);
      try {
        done.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "trainer-shutdown"));
    Trainer.Options options = new Trainer.Options(init, out, cfg.topics(), cfg.kafkaClient(),
        new TrainerConfig(cfg.originals()).settings(), metrics.registry(), System.err);
    try (metrics; Trainer trainer = Trainer.open(options)) {
      spec.commandLine().getOut().println("trainer running on " + cfg.bootstrapServers() + " from v" + trainer.version()
          + " (Ctrl-C to stop)");
      spec.commandLine().getOut().println(metrics.describe());
      spec.commandLine().getOut().flush();
      trainer.run(stop::get);
      spec.commandLine().getOut().println("trainer stopped at step " + trainer.steps() + ", v" + trainer.version());
    } finally {
      done.countDown();
    }
    return 0;
  }
}
