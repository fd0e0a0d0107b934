package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.schemas.Topics;
import io.thinkstream.trainer.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer as a real child process, killed with SIGKILL ten times at random points (half of
 * them the moment a {@code v{N}.tmp} checkpoint directory appears, i.e. during a checkpoint
 * write) and restarted, while pairs keep arriving, some of them retried. Afterwards every pairId
 * was trained exactly once across the surviving checkpoints (read from their manifests), no
 * {@code .tmp} directory was ever published or resumed from, and lineage on a checkpoint lists
 * exactly the pairIds its offset ranges cover. Prints its figures on one line.
 */
class TrainerCrashTest {
  private static final Topics TOPICS = Topics.withPrefix("crash.");
  private static final int ROUNDS = 10;

  @TempDir Path dataDir;
  @TempDir Path initDir;
  @TempDir Path out;
  @TempDir Path logs;

  @Test
  void killedTenTimesTheTrainerTrainsEveryPairExactlyOnce() throws Exception {
    long begin = System.nanoTime();
    try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", 0, dataDir)) {
      TrainerFixture.createTopics(broker.bootstrap(), TOPICS);
      Path init = TrainerFixture.init(initDir);
      Set<String> sent = new LinkedHashSet<>();
      AtomicInteger retries = new AtomicInteger();
      AtomicBoolean producing = new AtomicBoolean(true);
      Thread producer = new Thread(() -> produce(broker.bootstrap(), sent, retries, producing), "pairs");
      producer.start();

      SplittableRandom rnd = new SplittableRandom(2026);
      int duringWrite = 0;
      List<String> stderr = new ArrayList<>();
      for (int round = 0; round < ROUNDS; round++) {
        Process p = start(broker.bootstrap(), init, round);
        awaitLine(round, "trainer running", Duration.ofSeconds(60));
        boolean atWrite = round % 2 == 1;
        if (atWrite) {
          long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
          while (!hasTmp() && System.nanoTime() < deadline) {
            Thread.sleep(0, 200_000);
          }
        } else {
          Thread.sleep(200 + rnd.nextInt(2500));
        }
        p.destroyForcibly(); // SIGKILL
        p.waitFor();
        if (hasTmp()) {
          duringWrite++;
        }
        stderr.add(Files.readString(logs.resolve("err-" + round)));
      }
      producing.set(false);
      producer.join();

      // A last run drains the topic; then it is killed too, and what survives is checked.
      Process last = start(broker.bootstrap(), init, ROUNDS);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!drained(sent.size() + retries.get()) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      last.destroyForcibly();
      last.waitFor();
      stderr.add(Files.readString(logs.resolve("err-" + ROUNDS)));

      List<Manifest> manifests = TrainerFixture.manifests(out);
      assertFalse(manifests.isEmpty());
      for (int i = 0; i < manifests.size(); i++) {
        Manifest m = manifests.get(i);
        assertEquals(i + 1, m.version(), "versions are consecutive");
        assertEquals(i == 0 ? null : (Long) (long) i, m.parent());
        for (Manifest.Range r : m.offsets()) {
          long expectedStart = i == 0 ? 0 : manifests.get(i - 1).offsets().stream()
              .filter(x -> x.topic().equals(r.topic()) && x.partition() == r.partition()).findFirst().orElseThrow().end();
          assertEquals(expectedStart, r.start(), "v" + m.version() + " starts where its parent ended: " + r);
        }
      }
      List<String> trained = TrainerFixture.trainedIds(manifests);
      Set<String> once = new HashSet<>(trained);
      assertEquals(trained.size(), once.size(), "a pairId was trained twice");
      assertTrue(drained(sent.size() + retries.get()), "the last run consumed every record");
      assertEquals(sent, new LinkedHashSet<>(trained.stream().sorted(java.util.Comparator.comparingInt(
          (String id) -> Integer.parseInt(id.substring(5)))).toList()), "every pairId sent was trained");
      long skippedDuplicates = manifests.stream().flatMap(m -> m.skipped().stream())
          .filter(r -> r.objective().equals("duplicate")).count();
      assertEquals(retries.get(), skippedDuplicates, "every retried pair is consumed and skipped");

      for (String log : stderr) {
        log.lines().filter(l -> l.contains("resumed from")).forEach(l -> assertFalse(l.contains(".tmp"), l));
      }
      List<Checkpoint> events = RoundTrip.readAll(broker.bootstrap(), TOPICS.checkpoints()).stream()
          .map(RoundTrip.Keyed::value).toList();
      assertTrue(events.stream().noneMatch(c -> c.getUri().contains(".tmp")), "no .tmp directory is ever published");
      Set<Long> published = new HashSet<>();
      events.forEach(c -> published.add(c.getVersion()));
      for (Manifest m : manifests) {
        assertTrue(published.contains(m.version()), "v" + m.version() + " was published (again on restart if need be)");
      }

      Manifest middle = manifests.get(manifests.size() / 2);
      Cli lineage = Cli.run("lineage", String.valueOf(middle.version()), "--out", out.toString(), "--bootstrap",
          broker.bootstrap(), "--set", "topic.prefix=crash.");
      assertEquals(0, lineage.exitCode(), lineage.toString());
      long covered = middle.offsets().stream().mapToLong(r -> r.end() - r.start()).sum();
      assertEquals(covered, lineage.outLines().size(), "one line per record in the offset ranges");
      List<String> listed = lineage.outLines().stream().filter(l -> l.contains("\"trained\":true"))
          .map(l -> l.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1")).toList();
      assertEquals(TrainerFixture.trainedIds(List.of(middle)), listed);

      System.out.printf("{\"kills\":%d,\"kills_during_checkpoint_write\":%d,\"checkpoints\":%d,\"pairs\":%d,"
              + "\"retries_skipped\":%d,\"steps\":%d,\"seconds\":%.1f}%n", ROUNDS + 1, duringWrite, manifests.size(),
          trained.size(), skippedDuplicates, manifests.get(manifests.size() - 1).lastStep(),
          (System.nanoTime() - begin) / 1e9);
      assertTrue(duringWrite >= 1, "at least one kill landed inside a checkpoint write");
    }
  }

  private Process start(String bootstrap, Path init, int round) throws IOException {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "io.thinkstream.app.Thinkstream",
        "trainer", "--bootstrap", bootstrap, "--init", init.toString(), "--out", out.toString(),
        "--set", "topic.prefix=crash.", "--set", "trainer.batch.records=4", "--set", "trainer.batch.max.wait.ms=100",
        "--set", "trainer.checkpoint.steps=3", "--set", "trainer.checkpoint.interval.ms=500", "--set", "trainer.progress.steps=5", "--set", "trainer.learning.rate=1e-3");
    return new ProcessBuilder(cmd).redirectOutput(logs.resolve("out-" + round).toFile())
        .redirectError(logs.resolve("err-" + round).toFile()).start();
  }

  private void awaitLine(int round, String text, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Path f = logs.resolve("out-" + round);
      if (Files.exists(f) && Files.readString(f).contains(text)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("round " + round + ": no '" + text + "' within " + timeout + "\n"
        + Files.readString(logs.resolve("err-" + round)));
  }

  private boolean hasTmp() {
    try (Stream<Path> s = Files.list(out)) {
      return s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp"));
    } catch (IOException e) {
      return false;
    }
  }

  /** Whether the newest complete manifest consumed {@code records} preference records. */
  private boolean drained(int records) {
    try {
      List<Manifest> m = TrainerFixture.manifests(out);
      return !m.isEmpty() && m.get(m.size() - 1).offsets().stream()
          .filter(r -> r.topic().equals(TOPICS.preferences().name())).mapToLong(Manifest.Range::end).sum() >= records;
    } catch (RuntimeException e) {
      return false; // a directory renamed while we read it
    }
  }

  /** Pairs at ~40/s; every 25th send is a retry of an earlier pairId. */
  private static void produce(String bootstrap, Set<String> sent, AtomicInteger retries, AtomicBoolean running) {
    try (KafkaProducer<String, PreferencePair> p = TrainerFixture.pairs(bootstrap, TOPICS)) {
      int i = 0;
      while (running.get()) {
        PreferencePair pair = TrainerFixture.pair(i);
        p.send(new ProducerRecord<>(TOPICS.preferences().name(), pair.getProblemId(), pair)).get();
        synchronized (sent) {
          sent.add(pair.getPairId());
        }
        if (i % 25 == 24) {
          PreferencePair retry = TrainerFixture.pair(i - 10);
          p.send(new ProducerRecord<>(TOPICS.preferences().name(), retry.getProblemId(), retry)).get();
          retries.incrementAndGet();
        }
        i++;
        Thread.sleep(25);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
