package io.thinkstream.app;

import io.thinkstream.sampler.DjlBackend;
import io.thinkstream.sampler.LivePolicy;
import io.thinkstream.sampler.SamplerBackend;
import io.thinkstream.sampler.SamplerConfig;
import io.thinkstream.sampler.SamplerService;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the sampler service (transactional, hot-reloading) until SIGINT/SIGTERM. */
@Command(name = "sampler", mixinStandardHelpOptions = true,
    description = {"Run the sampler: problems and explore-requests in, samples and explore-results out,",
        "one transaction per batch; follows checkpoints and hot-reloads newer policies.",
        "Settings: sampler.* (see 'thinkstream config')."})
final class SamplerCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
  String bootstrap;

  @Option(names = "--model", paramLabel = "DIR",
      description = "Checkpoint directory of the initial policy (config.json + model.safetensors); required for the djl backend.")
  Path model;

  @Option(names = "--metrics-port", description = "Port of /metrics; 0 = a free one, -1 = off (default: metrics.port).")
  Integer metricsPort;

  @Option(names = "--policy-version", defaultValue = "0",
      description = "Policy version of --model (default: ${DEFAULT-VALUE}); a newer checkpoint event replaces it.")
  long policyVersion;

  @Override
  public Integer call() throws Exception {
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
        ThinkstreamConfig.METRICS_PORT, metricsPort));
    TopicsCommand.requireExists(cfg.kafkaClient(), cfg.topics().problems().name());
    TopicsCommand.requireExists(cfg.kafkaClient(), cfg.topics().samples().name());
    SamplerConfig sc = new SamplerConfig(cfg.originals());
    PrintWriter out = spec.commandLine().getOut();

    SamplerBackend backend;
    Optional<LivePolicy> reloads;
    if (sc.backend().equals("http")) {
      backend = sc.httpBackend(policyVersion);
      reloads = Optional.empty();
    } else {
      if (model == null || !Files.isDirectory(model)) {
        throw new IllegalArgumentException("--model DIR is required for the djl backend and must be a checkpoint directory, got "
            + model);
      }
      LivePolicy policy = new LivePolicy(LivePolicy.load(model, policyVersion));
      backend = new DjlBackend(policy);
      reloads = Optional.of(policy);
    }
    MetricsEndpoint metrics = MetricsEndpoint.start(cfg, "sampler");
    SamplerService service = SamplerService.start(new SamplerService.Config(cfg.bootstrapServers(), cfg.topics(),
        sc.settings(), backend, reloads, metrics.registry(), Optional.of(out),
        cfg.originalsWithPrefix(ThinkstreamConfig.KAFKA_PREFIX)));
    Thread shutdown = new Thread(() -> {
      service.stop();
      backend.close();
      metrics.close();
    }, "sampler-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdown);
    out.println("sampler " + sc.settings().samplerId() + " running on " + cfg.bootstrapServers() + " with "
        + (reloads.isPresent() ? "policy " + model + " (v" + reloads.get().version() + ")" : "http backend " + sc.getString(SamplerConfig.HTTP_URL))
        + ", k=" + sc.settings().k() + ", batch " + sc.settings().batchMax() + " (Ctrl-C to stop)");
    out.println(metrics.describe());
    out.flush();
    while (service.isRunning()) {
      Thread.sleep(500);
    }
    if (service.failure().isPresent()) {
      Runtime.getRuntime().removeShutdownHook(shutdown);
      backend.close();
      metrics.close();
      spec.commandLine().getErr().println("thinkstream sampler: stopped: " + service.failure().get());
      return 1;
    }
    return 0;
  }
}
