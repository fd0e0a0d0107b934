package io.thinkstream.app;

import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import io.thinkstream.producers.ProblemPublisher;
import io.thinkstream.producers.SyntheticSource;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.tasks.SyntheticProblems;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/**
 * The all-in-one run on the embedded broker: start a broker, create the topics, stream synthetic
 * problems onto {@code problems}, read them back from the log and verify every gold solution.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the loop on an embedded broker: broker, topics, problems in, problems read back and verified.")
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Broker data directory (default: a new temporary one).")
  Path dataDir;

  @Option(names = "--port", description = "Broker client port (default: a free port).")
  int port;

  @Option(names = "--count", description = "Synthetic problems to stream (default: ${DEFAULT-VALUE}).")
  long count = 200;

  @Option(names = "--seed", description = "Seed of the synthetic problems (default: ${DEFAULT-VALUE}).")
  long seed = 7;

  @Option(names = "--keep-running", description = "Keep the broker up after the run, until Ctrl-C.")
  boolean keepRunning;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path dir = dataDir != null ? dataDir : Files.createTempDirectory("thinkstream-demo-");
    try {
      return run(dir, out, err);
    } finally {
      if (dataDir == null) {
        deleteTree(dir);
      }
    }
  }

  private int run(Path dir, PrintWriter out, PrintWriter err) throws Exception {
    err.println("[1/4] starting an embedded Kafka broker (data in " + dir + ")");
    try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", port, dir)) {
      ThinkstreamConfig cfg = config.load(ConfigOptions.flags(ThinkstreamConfig.BOOTSTRAP_SERVERS, broker.bootstrap()));
      err.println("[2/4] creating topics on " + broker.bootstrap());
      try (Admin admin = Admin.create(cfg.kafkaClient())) {
        TopicsCommand.create(admin, cfg.topics(), cfg.getInt(ThinkstreamConfig.TOPIC_PARTITIONS),
            cfg.getShort(ThinkstreamConfig.TOPIC_REPLICATION_FACTOR), err);
      }
      err.println("[3/4] streaming " + count + " synthetic problems (seed " + seed + ")");
      try (ProblemPublisher publisher = new ProblemPublisher(cfg.kafkaClient(), cfg.topics(), Clock.systemUTC())) {
        publisher.publish(new SyntheticSource(new SyntheticProblems(cfg.synthetic(), seed, Clock.systemUTC()), count), err);
      }
      err.println("[4/4] reading the problems back from the log and verifying every gold solution");
      List<Problem> problems = new ArrayList<>();
      long read = TailCommand.read(cfg.kafkaClient(), cfg.topics().problems(), true, Long.MAX_VALUE, true,
          err, (record, problem) -> problems.add(problem));
      long verified = 0;
      long solutions = 0;
      for (Problem p : problems) {
        boolean ok = true;
        for (Solution s : p.getSolutions()) {
          solutions++;
          ok &= Gsm8kSolution.parse(s.getText()).check(Optional.ofNullable(p.getGoldAnswer())).ok();
        }
        verified += ok ? 1 : 0;
      }
      problems.stream().limit(2).forEach(p -> show(p, out));
      out.printf("{\"bootstrap\":\"%s\",\"produced\":%d,\"read_back\":%d,\"verified\":%d,"
              + "\"solutions_per_problem\":%.2f}%n", broker.bootstrap(), count, read, verified,
          problems.isEmpty() ? 0.0 : (double) solutions / problems.size());
      if (keepRunning) {
        err.println("broker stays up at " + broker.bootstrap() + "; try: ./thinkstream tail problems --bootstrap "
            + broker.bootstrap() + " --from-beginning --max 3   (Ctrl-C to stop)");
        err.flush();
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        stop.await();
      }
      return read == count && verified == count ? 0 : 1;
    }
  }

  /** Removes the demo's own temporary broker data. */
  static void deleteTree(Path dir) throws java.io.IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void show(Problem p, PrintWriter out) {
    out.println("─".repeat(72));
    out.println(p.getId() + "  (gold answer " + p.getGoldAnswer() + ")");
    out.println(p.getQuestion());
    for (Solution s : p.getSolutions()) {
      out.println("  [" + s.getStyle() + "]");
      s.getText().lines().forEach(line -> out.println("    " + line));
    }
  }
}
