package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.SftExample;
import io.thinkstream.avro.SftTurn;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import io.thinkstream.trainer.Lineage;
import io.thinkstream.trainer.Manifest;
import io.thinkstream.trainer.Trainer;
import io.thinkstream.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A multi-turn SFT example on a real broker: the trainer consumes it from {@code sft-examples},
 * trains it as one single-pass dialogue beside a single-turn example, skips its retry by sampleId,
 * and its checkpoint's manifest and lineage count it like any other example.
 */
class TrainerMultiTurnTest {
  private static final Topics TOPICS = Topics.withPrefix("trm.");
  private static EmbeddedBroker broker;
  private static Path init;

  @TempDir static Path dataDir;
  @TempDir static Path initDir;
  @TempDir Path work;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
    TrainerFixture.createTopics(broker.bootstrap(), TOPICS);
    init = TrainerFixture.init(initDir);
    String tag = PromptFormat.tag(2);
    SftExample conversation = SftExample.newBuilder().setProblemId("m0").setSampleId("multi-0")
        .setPrompt(PromptFormat.prompt("Tom has 3 apples and buys 4 more. How many does he have now?", tag))
        .setCompletion("3 + 4 = 7\n#### 7").setStrategy(tag).setPolicyVersion(0)
        .setFollowUps(List.of(new SftTurn("He gives away 2. How many does he have now?", "7 - 2 = 5\n#### 5"),
            new SftTurn("Then the number of apples doubles. How many does he have now?", "5 * 2 = 10\n#### 10")))
        .build();
    TrainerFixture.send(broker.bootstrap(), TOPICS, List.of(),
        List.of(conversation, conversation, TrainerFixture.example(1))); // a retry of the conversation between
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void aConversationFromTheTopicIsTrainedOnceInOnePassAndCountedInTheManifest() throws Exception {
    Path out = work.resolve("out");
    TrainerConfig.Settings s = TrainerConfig.of(Map.of(TrainerConfig.BATCH_RECORDS, "2", TrainerConfig.BATCH_MAX_WAIT_MS,
        "60000", TrainerConfig.CHECKPOINT_STEPS, "1", TrainerConfig.MAX_STEPS, "1", TrainerConfig.GROUP_ID, "m",
        TrainerConfig.PROGRESS_STEPS, "1"));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Trainer t = Trainer.open(new Trainer.Options(init, out, TOPICS, Map.of("bootstrap.servers", broker.bootstrap()), s,
        registry, System.err))) {
      t.run(() -> false);
    }
    assertEquals(1, registry.counter("thinkstream.trainer.records", "objective", "multiturn").count());
    assertEquals(1, registry.counter("thinkstream.trainer.records", "objective", "sft").count());

    List<Manifest> manifests = TrainerFixture.manifests(out);
    assertEquals(1, manifests.size());
    Manifest.Step step = manifests.get(0).steps().get(0);
    assertTrue(step.applied(), "the step was applied");
    assertEquals(List.of(new Manifest.Record(TOPICS.sftExamples().name(), 0, 0, "multi-0", "multiturn"),
        new Manifest.Record(TOPICS.sftExamples().name(), 0, 2, "sample-1", "sft")), step.records());
    assertTrue(Double.isFinite(step.losses().get("multiturn")) && step.losses().get("multiturn") > 0, step.losses().toString());
    assertEquals(List.of(new Manifest.Record(TOPICS.sftExamples().name(), 0, 1, "multi-0", "duplicate")),
        manifests.get(0).skipped());

    List<Lineage.Entry> lineage = Lineage.of(manifests.get(0), TOPICS, Map.of("bootstrap.servers", broker.bootstrap()));
    assertEquals(List.of("multiturn", "multiturn", "sft"), lineage.stream().map(Lineage.Entry::objective).toList());
    assertEquals(List.of(true, false, true), lineage.stream().map(Lineage.Entry::trained).toList());
    assertEquals("m0", lineage.get(0).problemId());
  }
}
