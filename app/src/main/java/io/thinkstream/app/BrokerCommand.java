package io.thinkstream.app;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/** Runs a real single-node KRaft broker in this process until SIGINT/SIGTERM. */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run a single-node Kafka broker (KRaft) in-process; storage is formatted on first start.")
final class BrokerCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Option(names = "--port", description = "Client port (default: broker.port, 9092).")
  Integer port;

  @Option(names = "--host", description = "Host to listen on and advertise (default: broker.host).")
  String host;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Data directory (default: broker.data.dir).")
  Path dataDir;

  @Override
  public Integer call() throws Exception {
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(
        ThinkstreamConfig.BROKER_PORT, port, ThinkstreamConfig.BROKER_HOST, host,
        ThinkstreamConfig.BROKER_DATA_DIR, dataDir));
    EmbeddedBroker broker = EmbeddedBroker.start(cfg.getString(ThinkstreamConfig.BROKER_HOST),
        cfg.getInt(ThinkstreamConfig.BROKER_PORT), Path.of(cfg.getString(ThinkstreamConfig.BROKER_DATA_DIR)));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      spec.commandLine().getErr().println("stopping broker...");
      spec.commandLine().getErr().flush();
      broker.close();
      stopped.countDown();
    }, "broker-shutdown"));
    PrintWriter out = spec.commandLine().getOut();
    out.println("bootstrap: " + broker.bootstrap());
    out.println("data dir: " + broker.dataDir().toAbsolutePath());
    out.flush();
    stopped.await();
    return 0;
  }
}
