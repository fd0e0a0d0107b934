package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.Evaluation;
import io.thinkstream.evaluator.EvaluatorConfig;
import io.thinkstream.evaluator.EvaluatorService;
import io.thinkstream.evaluator.Suite;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.tasks.SyntheticProblems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluator on a real broker with tiny random-weight checkpoints: started after ten
 * checkpoint events it evaluates all ten; across a restart and a re-published version no
 * (version, suite) is evaluated twice; a checkpoint whose weights do not match its sha256 goes
 * to dead-letters with the reason.
 */
class EvaluatorTest {
  private static final Topics TOPICS = Topics.withPrefix("ev.");
  private static EmbeddedBroker broker;

  @TempDir static Path dataDir;
  @TempDir static Path checkpoints;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
    RoundTrip.createTopics(broker.bootstrap(), TOPICS);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  /** A two-problem synthetic suite, k = n = 2, eight new tokens: seconds per checkpoint. */
  static EvaluatorService.Config config(String bootstrap, Topics topics) {
    EvaluatorConfig.Settings settings = EvaluatorConfig.Settings.defaults().withSizes(2, 2, 2, 8);
    return new EvaluatorService.Config(RoundTrip.client(bootstrap), topics, settings,
        List.of(Suite.synthetic(SyntheticProblems.Settings.defaults(), settings.syntheticSeed(), settings.syntheticSize())));
  }

  @Test
  void aLaggingEvaluatorScoresEveryVersionOnceAcrossARestart() throws Exception {
    List<Checkpoint> ten = new ArrayList<>();
    for (long v = 1; v <= 10; v++) {
      ten.add(TinyCheckpoints.write(checkpoints, v, List.of()));
    }
    TinyCheckpoints.publish(broker.bootstrap(), TOPICS, ten.toArray(Checkpoint[]::new));

    try (EvaluatorService evaluator = EvaluatorService.start(config(broker.bootstrap(), TOPICS), new SimpleMeterRegistry())) {
      assertEquals(Set.of(), evaluator.done());
      await(TOPICS.evaluations(), 10);
    }
    assertEquals(LongStream.rangeClosed(1, 10).boxed().collect(Collectors.toCollection(TreeSet::new)), versions());

    // A trainer retry re-publishes version 3; version 11 is new; version 12's weights are not what its event says.
    Checkpoint eleven = TinyCheckpoints.write(checkpoints, 11, List.of());
    Checkpoint corrupt = TinyCheckpoints.write(checkpoints, 12, List.of());
    corrupt.setSha256("0".repeat(64));
    TinyCheckpoints.publish(broker.bootstrap(), TOPICS, ten.get(2), eleven, corrupt);
    try (EvaluatorService evaluator = EvaluatorService.start(config(broker.bootstrap(), TOPICS), new SimpleMeterRegistry())) {
      assertEquals(10, evaluator.done().size(), "read back from the evaluations topic");
      await(TOPICS.evaluations(), 11);
      await(TOPICS.deadLetters(), 1);
      Thread.sleep(1500); // a duplicate would show up by now
    }
    List<Evaluation> all = values(TOPICS.evaluations());
    assertEquals(11, all.size(), all.toString());
    assertEquals(11, all.stream().map(e -> e.getVersion() + "/" + e.getSuite()).distinct().count());
    for (Evaluation e : all) {
      assertEquals("synthetic", e.getSuite());
      assertEquals(2, e.getN());
      assertEquals(2, e.getK());
      assertTrue(e.getGreedyPass1() >= 0 && e.getGreedyPass1() <= 1, e.toString());
      assertEquals(Set.of("<think1>", "<think2>"), e.getPerStrategyAccuracy().keySet());
    }
    DeadLetter letter = values(TOPICS.deadLetters()).get(0);
    assertTrue(letter.getError().contains("sha256") && letter.getError().contains("checkpoint 12"), letter.getError());
    assertEquals(TOPICS.checkpoints().name(), letter.getTopic());

    // A new consumer group reads every checkpoint again; the evaluations topic says they are all done.
    EvaluatorService.Config fresh = config(broker.bootstrap(), TOPICS);
    fresh = new EvaluatorService.Config(fresh.kafka(), TOPICS, fresh.settings().withIds("other-group", "other-tx"), fresh.suites());
    try (EvaluatorService evaluator = EvaluatorService.start(fresh, new SimpleMeterRegistry())) {
      Thread.sleep(3000);
    }
    assertEquals(11, values(TOPICS.evaluations()).size());
  }

  private static Set<Long> versions() throws Exception {
    return values(TOPICS.evaluations()).stream().map(Evaluation::getVersion).collect(Collectors.toCollection(TreeSet::new));
  }

  static <V> List<V> values(Topic<String, V> topic) throws Exception {
    return RoundTrip.readAll(broker.bootstrap(), topic).stream().map(RoundTrip.Keyed::value).toList();
  }

  private static void await(Topic<String, ?> topic, int count) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    int seen = 0;
    while (System.currentTimeMillis() < deadline) {
      seen = RoundTrip.readAll(broker.bootstrap(), topic).size();
      if (seen >= count) {
        return;
      }
      Thread.sleep(300);
    }
    throw new AssertionError(topic.name() + ": " + seen + " records after 120 s, expected " + count);
  }
}
