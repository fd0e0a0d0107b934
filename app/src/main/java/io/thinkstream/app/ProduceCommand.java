package io.thinkstream.app;

import io.thinkstream.producers.HttpIngest;
import io.thinkstream.producers.JsonlProblems;
import io.thinkstream.producers.ProblemPublisher;
import io.thinkstream.producers.ProblemSource;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Puts problems on the {@code problems} topic from a synthetic generator, a JSONL file or HTTP. */
@Command(name = "produce", mixinStandardHelpOptions = true,
    description = {"Produce problems to the 'problems' topic.",
        "  --source synthetic --count N --seed S [--steps MIN..MAX]",
        "  --source jsonl --file F      (GSM8K format; bad lines go to dead-letters)",
        "  --source http --port P       (POST /problems, POST /feedback)"})
final class ProduceCommand implements Callable<Integer> {
  enum Source { synthetic, jsonl, http }

  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Option(names = "--source", required = true, description = "One of: ${COMPLETION-CANDIDATES}.")
  Source source;

  @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
  String bootstrap;

  @Option(names = "--count", description = "synthetic: number of problems (default: 100).")
  Long count;

  @Option(names = "--seed", description = "synthetic: seed; the same seed gives the same problems (default: 0).")
  Long seed;

  @Option(names = "--steps", paramLabel = "MIN..MAX", description = "synthetic: calculations per problem (default: synthetic.steps).")
  String steps;

  @Option(names = "--max-number", description = "synthetic: largest operand (default: synthetic.max.number).")
  Integer maxNumber;

  @Option(names = "--ops", split = ",", description = "synthetic: operations among add,sub,mul,div (default: synthetic.operations).")
  java.util.List<String> ops;

  @Option(names = "--file", description = "jsonl: the file to read.")
  Path file;

  @Option(names = "--follow-ups", paramLabel = "N",
      description = "synthetic: up to N follow-up turns on a share of the problems (multi-turn; default: synthetic.follow.ups).")
  Integer followUps;

  @Option(names = "--port", description = "http: port to listen on (default: http.port).")
  Integer port;

  @Option(names = "--host", description = "http: address to bind (default: http.host).")
  String host;

  @Option(names = "--metrics-port", description = "http: port of /metrics; 0 = a free one, -1 = off (default: metrics.port).")
  Integer metricsPort;

  @Override
  public Integer call() throws Exception {
    requireOnlyFor(Source.synthetic, count, "--count", seed, "--seed", steps, "--steps", maxNumber, "--max-number", ops, "--ops",
        followUps, "--follow-ups");
    requireOnlyFor(Source.jsonl, file, "--file");
    requireOnlyFor(Source.http, port, "--port", host, "--host", metricsPort, "--metrics-port");
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(
        ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap,
        ThinkstreamConfig.SYNTHETIC_STEPS, steps,
        ThinkstreamConfig.SYNTHETIC_MAX_NUMBER, maxNumber,
        ThinkstreamConfig.SYNTHETIC_OPERATIONS, ops == null ? null : String.join(",", ops),
        ThinkstreamConfig.SYNTHETIC_FOLLOW_UPS, followUps,
        ThinkstreamConfig.HTTP_PORT, port,
        ThinkstreamConfig.HTTP_HOST, host,
        ThinkstreamConfig.METRICS_PORT, metricsPort));
    TopicsCommand.requireExists(cfg.kafkaClient(), cfg.topics().problems().name());
    Clock clock = Clock.systemUTC();
    try (ProblemPublisher publisher = new ProblemPublisher(cfg.kafkaClient(), cfg.topics(), clock)) {
      if (source == Source.http) {
        return serve(cfg, publisher, clock);
      }
      ProblemSource problems = switch (source) {
        case synthetic -> cfg.syntheticProblems(seed == null ? 0 : seed, count == null ? 100 : count, clock);
        case jsonl -> {
          if (file == null) {
            throw new ParameterException(spec.commandLine(), "--source jsonl needs --file F");
          }
          yield new JsonlProblems(file, cfg.getInt(ThinkstreamConfig.JSONL_MAX_LINE_BYTES), clock);
        }
        case http -> throw new IllegalStateException();
      };
      ProblemPublisher.Report report = publisher.publish(problems, spec.commandLine().getErr());
      spec.commandLine().getOut().printf("{\"source\":\"%s\",\"topic\":\"%s\",\"produced\":%d,\"rejected\":%d}%n",
          problems.name().replace("\\", "\\\\").replace("\"", "\\\""), cfg.topics().problems().name(),
          report.produced(), report.rejected());
      if (report.produced() == 0) {
        spec.commandLine().getErr().println("nothing could be produced from " + problems.name());
        return 1;
      }
      return 0;
    }
  }

  private Integer serve(ThinkstreamConfig cfg, ProblemPublisher publisher, Clock clock) throws Exception {
    try (MetricsEndpoint metrics = MetricsEndpoint.start(cfg, "ingest");
         HttpIngest ingest = new HttpIngest(publisher, cfg.topics(), cfg.getString(ThinkstreamConfig.HTTP_HOST),
        cfg.getInt(ThinkstreamConfig.HTTP_PORT), cfg.getInt(ThinkstreamConfig.HTTP_MAX_BODY_BYTES), clock)) {
      metrics.bind(publisher.producer());
      ingest.start();
      CountDownLatch stop = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "http-shutdown"));
      spec.commandLine().getOut().println("listening on http://" + cfg.getString(ThinkstreamConfig.HTTP_HOST) + ":" + ingest.port()
          + " (POST /problems, POST /feedback)");
      spec.commandLine().getOut().println(metrics.describe());
      spec.commandLine().getOut().flush();
      stop.await();
    }
    return 0;
  }

  /** Rejects flags that belong to another source, so a typo'd command does not silently ignore them. */
  private void requireOnlyFor(Source owner, Object... valuesAndNames) {
    if (source == owner) {
      return;
    }
    for (int i = 0; i < valuesAndNames.length; i += 2) {
      if (valuesAndNames[i] != null) {
        throw new ParameterException(spec.commandLine(),
            valuesAndNames[i + 1] + " applies to --source " + owner + ", not " + source);
      }
    }
  }
}
