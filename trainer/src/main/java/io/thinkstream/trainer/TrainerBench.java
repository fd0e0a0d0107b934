package io.thinkstream.trainer;

import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.model.AdamW;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code thinkstream bench trainer}: train tokens/s of the trainer consuming pairs from Kafka
 * (poll, decode, tokenise, batch, dedup, manifest bookkeeping) next to the raw step
 * rate of the same model on the same batches in the same JVM (reference scoring, DPO forward and
 * backward, AdamW); the ratio says what the Kafka side costs.
 */
public final class TrainerBench {
  /** The bench's size: {@code steps} timed steps of {@code batch} pairs on the demo model. */
  public record Options(int steps, int batch) {
    public static Options defaults() {
      return new Options(20, 16);
    }
  }

  public record Result(double tokensPerSecond, double rawTokensPerSecond, int steps, long tokens) {
    public double ratio() {
      return tokensPerSecond / rawTokensPerSecond;
    }

    public String json() {
      return String.format(Locale.ROOT, "{\"tokens_per_s\":%.0f,\"raw_tokens_per_s\":%.0f,\"ratio\":%.3f,\"steps\":%d,\"tokens\":%d}",
          tokensPerSecond, rawTokensPerSecond, ratio(), steps, tokens);
    }
  }

  private TrainerBench() {}

  public static Result run(String bootstrap, Topics topics, Path work, Options o, PrintStream progress) {
    SyntheticTokenizer tok = new SyntheticTokenizer(2);
    Path init = work.resolve("init");
    try (Transformer m = Transformer.init(ModelConfig.demo(tok.vocabSize()), Transformer.defaultDevice(),
        ai.djl.ndarray.types.DataType.FLOAT32, 1)) {
      Checkpoints.save(m, tok, init);
    }
    List<PreferencePair> pairs = new ArrayList<>();
    for (int i = 0; i < (o.steps() + 1) * o.batch(); i++) {
      pairs.add(pair(i));
    }
    send(bootstrap, topics, pairs);
    TrainerConfig.Settings s = TrainerConfig.of(Map.of(TrainerConfig.BATCH_RECORDS, String.valueOf(o.batch()),
        TrainerConfig.BATCH_TOKENS, "1000000", TrainerConfig.BATCH_MAX_WAIT_MS, "60000",
        TrainerConfig.CHECKPOINT_STEPS, "100000", TrainerConfig.CHECKPOINT_INTERVAL_MS, "3600000",
        TrainerConfig.PROGRESS_STEPS, "5", TrainerConfig.LEARNING_RATE, "1e-4"));

    // Alternate chunks of raw steps and trainer steps, so that load from elsewhere on the machine
    // falls on both sides alike; the first batch of each side is a warm-up.
    List<List<Item>> batches = batches(tok, pairs, o.batch());
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Trainer.Options to = new Trainer.Options(init, work.resolve("out"), topics, Map.of("bootstrap.servers", bootstrap), s,
        registry, progress);
    double rawSeconds = 0;
    long rawTokens = 0;
    double seconds = 0;
    long tokens = 0;
    int chunk = 5;
    try (Transformer model = Checkpoints.load(init, Transformer.defaultDevice());
        Transformer reference = Checkpoints.load(init, Transformer.defaultDevice());
        AdamW adam = new AdamW(model, s.optimizer());
        Trainer t = Trainer.open(to)) {
      rawStep(model, reference, adam, batches.get(0), s, tok);
      t.run(() -> t.steps() >= 1);
      for (int done = 1; done < batches.size(); done += chunk) {
        int end = Math.min(batches.size(), done + chunk);
        long start = System.nanoTime();
        for (int b = done; b < end; b++) {
          rawTokens += rawStep(model, reference, adam, batches.get(b), s, tok);
        }
        rawSeconds += (System.nanoTime() - start) / 1e9;
        double before = registry.counter("thinkstream.trainer.tokens").count();
        start = System.nanoTime();
        t.run(() -> t.steps() >= end);
        seconds += (System.nanoTime() - start) / 1e9;
        tokens += (long) (registry.counter("thinkstream.trainer.tokens").count() - before);
      }
    }
    double raw = rawTokens / rawSeconds;
    Result r = new Result(tokens / seconds, raw, batches.size() - 1, tokens);
    progress.printf(Locale.ROOT, "bench trainer: from Kafka %.0f tokens/s, raw steps %.0f tokens/s over %d steps of %d pairs: "
        + "ratio %.3f%n", r.tokensPerSecond(), raw, r.steps(), o.batch(), r.ratio());
    return r;
  }

  private static List<List<Item>> batches(Tokenizer tok, List<PreferencePair> pairs, int size) {
    List<List<Item>> batches = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i += size) {
      List<Item> batch = new ArrayList<>();
      for (int j = i; j < i + size; j++) {
        batch.add(Item.of(pairs.get(j), new Item.Source("raw", 0, j), tok));
      }
      batches.add(batch);
    }
    return batches;
  }

  /** One bare training step on the batch the trainer forms from the same records; returns its tokens. */
  private static long rawStep(Transformer model, Transformer reference, AdamW adam, List<Item> items,
      TrainerConfig.Settings s, Tokenizer tok) {
    Objectives.References refs = Objectives.references(model, reference, items, tok, Objectives.Weights.of(s));
    try (NDManager step = model.newStepManager(); GradientCollector gc = step.getEngine().newGradientCollector()) {
      gc.backward(Objectives.build(model, step, items, refs, Objectives.Weights.of(s), tok.padId()).total());
    }
    adam.step(true);
    return items.stream().mapToLong(Item::length).sum();
  }

  static PreferencePair pair(int i) {
    String question = "Tom has " + (i % 97) + " apples and buys " + (i % 13) + " more. Then he gives away 2. How many does he have now?";
    int a = i % 97 + i % 13;
    return PreferencePair.newBuilder().setPairId("bench-" + i).setProblemId("p" + i)
        .setKind(i % 4 == 0 ? PairKind.PIT : PairKind.OUTCOME)
        .setPrompt(PromptFormat.prompt(question, PromptFormat.tag(1 + i % 2)))
        .setChosen((i % 97) + " + " + (i % 13) + " = " + a + "\n" + a + " - 2 = " + (a - 2) + "\n#### " + (a - 2))
        .setRejected((i % 97) + " - " + (i % 13) + " = " + (i % 97 - i % 13) + "\n#### " + (i % 97 - i % 13 - 2))
        .setPolicyVersion(0).setMargin(1).setSourceSampleIds(List.of("s" + i)).setCreatedAt(Instant.now()).build();
  }

  private static void send(String bootstrap, Topics topics, List<PreferencePair> pairs) {
    try (KafkaProducer<String, PreferencePair> p = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
        "linger.ms", 5), new StringSerializer(), topics.preferences().value().serializer())) {
      for (PreferencePair pair : pairs) {
        p.send(new ProducerRecord<>(topics.preferences().name(), pair.getProblemId(), pair));
      }
      p.flush();
    }
  }
}
