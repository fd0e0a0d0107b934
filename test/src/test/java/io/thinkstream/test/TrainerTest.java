package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.SftExample;
import io.thinkstream.schemas.Topics;
import io.thinkstream.trainer.CheckpointStore;
import io.thinkstream.trainer.Lineage;
import io.thinkstream.trainer.Manifest;
import io.thinkstream.trainer.Trainer;
import io.thinkstream.trainer.TrainerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer on a real broker: checkpoints name exactly the records that trained them, a run
 * resumed after a crash mid-checkpoint continues the uninterrupted run's loss curve (same batches,
 * same order), duplicates are skipped, events are published, lineage reads back the offset ranges,
 * and a corrupted checkpoint is refused.
 */
class TrainerTest {
  private static final Topics TOPICS = Topics.withPrefix("tr.");
  private static EmbeddedBroker broker;
  private static Path init;
  private static final List<String> PAIR_IDS = new ArrayList<>();

  @TempDir static Path dataDir;
  @TempDir static Path initDir;
  @TempDir Path work;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
    TrainerFixture.createTopics(broker.bootstrap(), TOPICS);
    init = TrainerFixture.init(initDir);
    List<PreferencePair> pairs = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      pairs.add(TrainerFixture.pair(i));
      PAIR_IDS.add("pair-" + i);
      if (i == 7 || i == 19) {
        pairs.add(TrainerFixture.pair(i - 4)); // a sampler retry: the same pairId again
      }
    }
    List<SftExample> examples = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      examples.add(TrainerFixture.example(i));
    }
    TrainerFixture.send(broker.bootstrap(), TOPICS, pairs, examples);
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  static Trainer trainer(Path out, long maxSteps, String group) {
    return trainer(out, maxSteps, group, new SimpleMeterRegistry());
  }

  static Trainer trainer(Path out, long maxSteps, String group, SimpleMeterRegistry registry) {
    TrainerConfig.Settings s = TrainerConfig.of(Map.of(TrainerConfig.BATCH_RECORDS, "4", TrainerConfig.BATCH_MAX_WAIT_MS,
        "60000", TrainerConfig.CHECKPOINT_STEPS, "2", TrainerConfig.MAX_STEPS, String.valueOf(maxSteps),
        TrainerConfig.LEARNING_RATE, "3e-3", TrainerConfig.WARMUP_STEPS, "3", TrainerConfig.GROUP_ID, group,
        TrainerConfig.PROGRESS_STEPS, "1"));
    return Trainer.open(new Trainer.Options(init, out, TOPICS, Map.of("bootstrap.servers", broker.bootstrap()), s,
        registry, System.err));
  }

  static void train(Path out, long maxSteps, String group) {
    try (Trainer t = trainer(out, maxSteps, group)) {
      t.run(() -> false);
    }
  }

  @Test
  void aResumedRunContinuesTheUninterruptedOneAndTrainsEveryRecordOnce() throws Exception {
    Path a = work.resolve("a");
    train(a, 8, "a");
    List<Manifest> uninterrupted = TrainerFixture.manifests(a);
    assertEquals(4, uninterrupted.size(), "8 steps, a checkpoint every 2");

    Path b = work.resolve("b");
    train(b, 4, "b");
    Files.move(b.resolve("v2"), b.resolve("v2.tmp")); // the process died while writing v2
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Trainer t = trainer(b, 8, "b", registry)) {
      t.run(() -> false);
    }
    assertEquals(6, registry.counter("thinkstream.trainer.steps").count(), "resumed at step 2 of 8");
    assertEquals(3, registry.counter("thinkstream.trainer.checkpoints").count());
    assertTrue(registry.counter("thinkstream.trainer.tokens").count() > 0);
    assertFalse(Files.exists(b.resolve("v2.tmp")), "the incomplete checkpoint is removed");
    List<Manifest> resumed = TrainerFixture.manifests(b);
    assertEquals(4, resumed.size());

    for (int v = 0; v < 4; v++) {
      Manifest x = uninterrupted.get(v);
      Manifest y = resumed.get(v);
      assertEquals(x.offsets(), y.offsets(), "v" + (v + 1) + " consumed the same offsets");
      assertEquals(v == 0 ? null : (long) v, y.parent());
      for (int s = 0; s < x.steps().size(); s++) {
        Manifest.Step sx = x.steps().get(s);
        Manifest.Step sy = y.steps().get(s);
        assertEquals(sx.step(), sy.step());
        assertEquals(sx.records(), sy.records(), "step " + sx.step() + " trained the same records in the same order");
        assertEquals(sx.loss(), sy.loss(), 1e-6 * Math.abs(sx.loss()), "step " + sx.step() + " loss");
      }
    }
    List<String> ids = TrainerFixture.trainedIds(resumed);
    assertEquals(32, ids.size(), "8 steps of 4 records");
    assertEquals(ids.size(), new HashSet<>(ids).size(), "every id trained exactly once: " + ids);
    long duplicates = resumed.stream().flatMap(m -> m.skipped().stream()).filter(r -> r.objective().equals("duplicate")).count();
    assertEquals(2, duplicates, "the two retried pairIds are consumed but not trained");
    for (int v = 1; v < 4; v++) {
      for (Manifest.Range r : resumed.get(v).offsets()) {
        Manifest.Range before = resumed.get(v - 1).offsets().stream()
            .filter(p -> p.topic().equals(r.topic()) && p.partition() == r.partition()).findFirst().orElseThrow();
        assertEquals(before.end(), r.start(), "ranges are contiguous: " + r);
      }
    }

    List<Checkpoint> events = RoundTrip.readAll(broker.bootstrap(), TOPICS.checkpoints()).stream()
        .map(RoundTrip.Keyed::value).filter(c -> c.getUri().startsWith(b.toString())).toList();
    Set<Long> versions = events.stream().map(Checkpoint::getVersion).collect(Collectors.toSet());
    assertEquals(Set.of(1L, 2L, 3L, 4L), versions);
    assertTrue(events.stream().noneMatch(c -> c.getUri().endsWith(".tmp")), "no .tmp directory is ever published");

    Manifest v2 = resumed.get(1);
    List<Lineage.Entry> lineage = Lineage.of(v2, TOPICS, Map.of("bootstrap.servers", broker.bootstrap()));
    long covered = v2.offsets().stream().mapToLong(r -> r.end() - r.start()).sum();
    assertEquals(covered, lineage.size(), "one entry per record in the offset ranges");
    assertEquals(TrainerFixture.trainedIds(List.of(v2)),
        lineage.stream().filter(Lineage.Entry::trained).map(Lineage.Entry::id).toList());
    Cli summary = Cli.run("lineage", "2", "--out", b.toString(), "--bootstrap", broker.bootstrap(), "--set",
        "topic.prefix=tr.", "--summary");
    assertEquals(0, summary.exitCode(), summary.toString());
    String json = summary.outLines().get(summary.outLines().size() - 1);
    assertTrue(json.contains("\"kind\":{") && json.contains("\"policy_version\":{\"0\":") && json.contains("\"problem_source\""), json);
  }

  @Test
  void aCorruptedCheckpointIsRefusedOnStart() throws Exception {
    Path out = work.resolve("c");
    train(out, 2, "c");
    Path weights = out.resolve("v1/model.safetensors");
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 1] ^= 0x40;
    Files.write(weights, bytes);
    CheckpointStore.CorruptCheckpointException e =
        assertThrows(CheckpointStore.CorruptCheckpointException.class, () -> trainer(out, 4, "c"));
    assertTrue(e.getMessage().contains("model.safetensors has sha256"), e.getMessage());
  }

  @Test
  void theReferenceIsRefreshedEveryNCheckpointsAndResumedAsSuch() throws Exception {
    Path out = work.resolve("r");
    TrainerConfig.Settings s = TrainerConfig.of(Map.of(TrainerConfig.BATCH_RECORDS, "4", TrainerConfig.BATCH_MAX_WAIT_MS,
        "60000", TrainerConfig.CHECKPOINT_STEPS, "1", TrainerConfig.MAX_STEPS, "3", TrainerConfig.GROUP_ID, "r",
        TrainerConfig.REFERENCE_REFRESH, "2"));
    try (Trainer t = Trainer.open(new Trainer.Options(init, out, TOPICS, Map.of("bootstrap.servers", broker.bootstrap()), s,
        new SimpleMeterRegistry(), System.err))) {
      t.run(() -> false);
    }
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    assertEquals(init.toAbsolutePath().toString(), json.readTree(out.resolve("v2/trainer-state.json").toFile())
        .get("reference").asText(), "v2 was trained against the initial model");
    assertEquals(out.resolve("v2").toAbsolutePath().toString(), json.readTree(out.resolve("v3/trainer-state.json").toFile())
        .get("reference").asText(), "after the second checkpoint the reference is v2");
  }
}
