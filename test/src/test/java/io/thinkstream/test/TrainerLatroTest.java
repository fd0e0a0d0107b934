package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import io.thinkstream.trainer.Manifest;
import io.thinkstream.trainer.Trainer;
import io.thinkstream.trainer.TrainerConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LaTRO mode on a real broker: samples are grouped per problem and policy version until K and the
 * gold answer are there; a checkpoint taken while a group is still open records the samples
 * partition as consumed only up to that group's first sample, so after a restart the group is
 * completed from the log and every sampleId is trained exactly once.
 */
class TrainerLatroTest {
  private static final Topics TOPICS = Topics.withPrefix("latro.");

  @TempDir Path dataDir;
  @TempDir Path initDir;
  @TempDir Path out;

  static Problem problem(String id) {
    return Problem.newBuilder().setId(id).setSource("it").setQuestion("Tom has 4 apples. How many now? " + id)
        .setGoldAnswer("4").setTask("arithmetic").setCreatedAt(Instant.now()).build();
  }

  static Sample sample(String problemId, int seed, boolean finished) {
    return Sample.newBuilder().setSampleId(problemId + "-s" + seed).setProblemId(problemId).setPolicyVersion(0)
        .setStrategy(PromptFormat.tag(1 + seed % 2))
        .setPrompt(PromptFormat.prompt("Tom has 4 apples. How many now? " + problemId, PromptFormat.tag(1 + seed % 2)))
        .setSteps(List.of("Tom has 4 apples.", "He keeps " + seed + " of them."))
        .setAnswer(finished ? "#### 4" : "").setSumLogProb(-1).setSeed(seed).setSamplerId("it")
        .setTimings(new SampleTimings(0L, 0L, 0, 0)).setCreatedAt(Instant.now()).build();
  }

  static <V> void send(String bootstrap, Topic<String, V> topic, List<V> values, java.util.function.Function<V, String> key)
      throws Exception {
    try (KafkaProducer<String, V> p = new KafkaProducer<>(new java.util.HashMap<>(RoundTrip.client(bootstrap)),
        new StringSerializer(), topic.value().serializer())) {
      for (V v : values) {
        p.send(new ProducerRecord<>(topic.name(), key.apply(v), v)).get();
      }
    }
  }

  Trainer trainer(String bootstrap, Path init, long maxSteps) {
    TrainerConfig.Settings s = TrainerConfig.of(Map.of(TrainerConfig.LATRO_K, "3", TrainerConfig.BATCH_RECORDS, "1",
        TrainerConfig.BATCH_MAX_WAIT_MS, "100", TrainerConfig.CHECKPOINT_STEPS, "1", TrainerConfig.CHECKPOINT_INTERVAL_MS,
        "300", TrainerConfig.MAX_STEPS, String.valueOf(maxSteps), TrainerConfig.PROGRESS_STEPS, "1"));
    return Trainer.open(new Trainer.Options(init, out, TOPICS, Map.of("bootstrap.servers", bootstrap), s,
        new SimpleMeterRegistry(), System.err));
  }

  @Test
  void groupsOfKSamplesTrainLatroAndAnOpenGroupSurvivesARestart() throws Exception {
    try (EmbeddedBroker broker = EmbeddedBroker.start("localhost", 0, dataDir)) {
      TrainerFixture.createTopics(broker.bootstrap(), TOPICS);
      Path init = TrainerFixture.init(initDir);
      send(broker.bootstrap(), TOPICS.problems(), List.of(problem("a"), problem("b"), problem("c")), Problem::getId);
      List<Sample> first = new ArrayList<>();
      for (int seed = 0; seed < 3; seed++) {
        first.add(sample("a", seed, seed != 1)); // one rationale of a never stopped
        first.add(sample("b", seed, true));
      }
      first.add(sample("c", 0, true));
      first.add(sample("c", 1, true)); // c's group stays open: two of three
      send(broker.bootstrap(), TOPICS.samples(), first, Sample::getProblemId);

      try (Trainer t = trainer(broker.bootstrap(), init, 0)) {
        long until = System.nanoTime() + 4_000_000_000L;
        t.run(() -> System.nanoTime() > until); // a and b train (one step, a problem's gold closes both); c stays open
      }
      List<Manifest> before = TrainerFixture.manifests(out);
      Manifest.Range samples = before.get(before.size() - 1).offsets().stream()
          .filter(r -> r.topic().equals(TOPICS.samples().name())).findFirst().orElseThrow();
      assertEquals(6, samples.end(), "consumed only up to c's first sample, which waits in an open group");

      send(broker.bootstrap(), TOPICS.samples(), List.of(sample("c", 2, true), sample("a", 0, true)), Sample::getProblemId);
      try (Trainer t = trainer(broker.bootstrap(), init, 0)) {
        long until = System.nanoTime() + 30_000_000_000L;
        // the restart re-reads c's samples, completes c, skips a's retried sample
        t.run(() -> TrainerFixture.trainedIds(TrainerFixture.manifests(out)).size() >= 9 || System.nanoTime() > until);
      }
      List<Manifest> all = TrainerFixture.manifests(out);
      List<String> trained = TrainerFixture.trainedIds(all);
      assertEquals(9, trained.size(), "three groups of three: " + trained);
      assertEquals(9, new HashSet<>(trained).size(), "every sampleId trained exactly once: " + trained);
      assertTrue(all.stream().flatMap(m -> m.steps().stream()).allMatch(s -> s.losses().containsKey("latro")
          && Double.isFinite(s.loss())));
      assertTrue(all.stream().flatMap(m -> m.skipped().stream()).anyMatch(r -> "a-s0".equals(r.id())),
          "the retried sample is consumed and skipped");
    }
  }
}
