package io.thinkstream.test;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.thinkstream.app.TopicsCommand;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.SftExample;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import io.thinkstream.trainer.CheckpointStore;
import io.thinkstream.trainer.Manifest;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** A tiny initial checkpoint, single-partition topics and synthetic pairs for the trainer tests. */
final class TrainerFixture {
  private TrainerFixture() {}

  static void createTopics(String bootstrap, Topics topics) throws Exception {
    try (Admin admin = Admin.create(RoundTrip.client(bootstrap))) {
      TopicsCommand.create(admin, topics, 1, (short) 1, new PrintWriter(System.err, true));
    }
  }

  /** A freshly initialised tiny policy with the built-in tokenizer (two strategy tags). */
  static Path init(Path dir) throws Exception {
    SyntheticTokenizer tok = new SyntheticTokenizer(2);
    ModelConfig config = new ModelConfig(tok.vocabSize(), 32, 2, 4, 2, 64, 10_000, 256, 1e-5, false);
    try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT32, 1)) {
      Checkpoints.save(model, tok, dir);
    }
    return dir;
  }

  static PreferencePair pair(int i) {
    String question = "Tom has " + i + " apples and buys 3 more. How many does he have now?";
    return PreferencePair.newBuilder().setPairId("pair-" + i).setProblemId("p" + i)
        .setKind(i % 5 == 0 ? PairKind.PIT : PairKind.OUTCOME)
        .setPrompt(PromptFormat.prompt(question, PromptFormat.tag(1 + i % 2)))
        .setChosen(i + " + 3 = " + (i + 3) + "\n#### " + (i + 3)).setRejected(i + " - 3 = " + (i - 3) + "\n#### " + (i - 3))
        .setPolicyVersion(0).setMargin(1).setSourceSampleIds(List.of("s" + i + "a", "s" + i + "b"))
        .setCreatedAt(Instant.ofEpochMilli(1_700_000_000_000L)).build();
  }

  static SftExample example(int i) {
    String question = "Ann has " + i + " pens. She gives away 2. How many does she have now?";
    return SftExample.newBuilder().setProblemId("q" + i).setSampleId("sample-" + i)
        .setPrompt(PromptFormat.prompt(question, PromptFormat.tag(1))).setCompletion(i + " - 2 = " + (i - 2) + "\n#### " + (i - 2))
        .setStrategy(PromptFormat.tag(1)).setPolicyVersion(0).build();
  }

  static KafkaProducer<String, PreferencePair> pairs(String bootstrap, Topics topics) {
    return new KafkaProducer<>(new java.util.HashMap<>(RoundTrip.client(bootstrap)), new StringSerializer(),
        topics.preferences().value().serializer());
  }

  static void send(String bootstrap, Topics topics, List<PreferencePair> pairs, List<SftExample> examples) throws Exception {
    try (KafkaProducer<String, PreferencePair> p = pairs(bootstrap, topics);
        KafkaProducer<String, SftExample> e = new KafkaProducer<>(new java.util.HashMap<>(RoundTrip.client(bootstrap)),
            new StringSerializer(), topics.sftExamples().value().serializer())) {
      for (PreferencePair pair : pairs) {
        p.send(new ProducerRecord<>(topics.preferences().name(), pair.getProblemId(), pair)).get();
      }
      for (SftExample ex : examples) {
        e.send(new ProducerRecord<>(topics.sftExamples().name(), ex.getProblemId(), ex)).get();
      }
    }
  }

  /** Every checkpoint's manifest in {@code out}, oldest first, each checked against its sha256. */
  static List<Manifest> manifests(Path out) {
    CheckpointStore store = new CheckpointStore(out);
    List<Manifest> all = new ArrayList<>();
    for (long v : store.versions()) {
      all.add(store.verified(v));
    }
    return all;
  }

  /** The ids every step of {@code manifests} trained, in training order. */
  static List<String> trainedIds(List<Manifest> manifests) {
    List<String> ids = new ArrayList<>();
    manifests.forEach(m -> m.steps().forEach(s -> s.records().forEach(r -> ids.add(r.id()))));
    return ids;
  }
}
