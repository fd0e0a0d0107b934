package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.app.Thinkstream;
import io.thinkstream.schemas.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code thinkstream rewards} exits with status 2 once its Kafka Streams application reaches
 * state ERROR, so that a supervisor (compose's restart policy, systemd, Kubernetes) restarts it
 * rather than leaving a process that looks alive and processes nothing. The failure is a real one:
 * the samples topic is deleted under the running application, which no new stream thread can fix,
 * so the application goes to ERROR.
 */
class RewardsExitTest {
  private static final Topics TOPICS = Topics.withPrefix("rexit.");

  @TempDir Path dataDir;
  @TempDir Path stateDir;

  @Test
  void exitsWithStatus2WhenTheStreamsApplicationFails() throws Exception {
    ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "rewards-command");
      t.setDaemon(true); // a service that never exits must not keep the test JVM alive
      return t;
    });
    try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", 0, dataDir)) {
      RoundTrip.createTopics(broker.bootstrap(), TOPICS);
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cli = Thinkstream.commandLine();
      cli.setOut(new PrintWriter(out, true));
      cli.setErr(new PrintWriter(err, true));
      Future<Integer> exit = runner.submit(() -> cli.execute("rewards", "--bootstrap", broker.bootstrap(),
          "--metrics-port", "-1", "--set", "topic.prefix=rexit.", "--set", "rewards.state.dir=" + stateDir,
          "--set", "rewards.application.id=rewards-exit", "--set", "judge=none"));

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!out.toString().contains("rewards running") && !exit.isDone() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(out.toString().contains("rewards running"), "not started: " + out + err);
      Thread.sleep(2000);
      assertFalse(exit.isDone(), "a healthy service keeps running: " + out + err);

      try (Admin admin = Admin.create(RoundTrip.client(broker.bootstrap()))) {
        admin.deleteTopics(List.of(TOPICS.samples().name())).all().get();
      }
      int code = exit.get(60, TimeUnit.SECONDS);
      assertEquals(2, code, out + "\n" + err);
      assertTrue(err.toString().contains("state ERROR"), err.toString());
    } finally {
      runner.shutdownNow();
    }
  }
}
