package io.thinkstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.Timer;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.OffsetRange;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.SftExample;
import io.thinkstream.model.AdamW;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.schemas.Topics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The trainer service: consumes {@code preferences} and {@code sft-examples} in micro-batches,
 * trains the policy (DPO against a frozen reference, step-DPO, SFT) with AdamW, and writes
 * checkpoints {@code OUT/v{N}/} whose manifests name exactly the offsets and records that trained
 * them. Only after a checkpoint is renamed into place are the offsets committed and the
 * {@code Checkpoint} event published; a restart resumes from the newest complete manifest (weights,
 * moments, schedule, dedup window) and seeks to its offsets, so no record is lost or trained twice.
 *
 * <p>Run with {@code thinkstream trainer --bootstrap B --init DIR --out DIR}.
 */
public final class Trainer implements AutoCloseable {
  /** What the trainer needs: the initial checkpoint, the output directory and the Kafka side. */
  public record Options(Path init, Path out, Topics topics, Map<String, Object> kafka, TrainerConfig.Settings settings,
      MeterRegistry metrics, PrintStream progress) {}

  static final String OPTIMIZER = "optimizer.safetensors";
  static final String STATE = "trainer-state.json";
  private static final List<String> TOKENIZER_FILES = List.of(Checkpoints.TOKENIZER_NOTE, "tokenizer.json",
      "tokenizer_config.json", "special_tokens_map.json");

  private final Options o;
  private final TrainerConfig.Settings s;
  private final CheckpointStore store;
  private final Tokenizer tok;
  private final Transformer model;
  private Transformer reference;
  private Path referenceDir;
  private final AdamW adam;
  private final KafkaConsumer<String, byte[]> consumer;
  private final KafkaProducer<String, Checkpoint> producer;
  private final List<KafkaClientMetrics> clientMetrics;
  private final List<TopicPartition> partitions = new ArrayList<>();
  private final List<TopicPartition> lookups = new ArrayList<>(); // problems (LaTRO's gold answers): read whole, not trained
  private final LatroGroups latro;
  private final Map<TopicPartition, Long> sampleNext = new LinkedHashMap<>();
  private final Map<TopicPartition, Long> starts = new LinkedHashMap<>();
  private final Map<TopicPartition, Long> ends = new LinkedHashMap<>();
  private final LinkedHashSet<String> seen = new LinkedHashSet<>();
  private final Deque<ConsumerRecord<String, byte[]>> pending = new ArrayDeque<>();
  private final List<Manifest.Step> steps = new ArrayList<>();
  private final List<Manifest.Record> skipped = new ArrayList<>();
  private final Map<String, Double> lastLosses = new ConcurrentHashMap<>();
  private final Meters meters;
  private long version;
  private long batches;
  private long lastCheckpointNanos = System.nanoTime();
  private final Progress progress;

  private Trainer(Options o) {
    this.o = o;
    this.s = o.settings();
    this.store = new CheckpointStore(o.out());
    for (Path removed : store.removeIncomplete()) {
      o.progress().println("trainer: removed incomplete checkpoint " + removed);
    }
    Optional<Manifest> newest = store.newest();
    Path from = newest.map(m -> store.dir(m.version())).orElse(o.init());
    this.tok = Checkpoints.tokenizer(o.init());
    this.model = Checkpoints.load(from, Transformer.defaultDevice());
    this.adam = new AdamW(model, s.optimizer());
    this.referenceDir = o.init();
    this.meters = new Meters(o.metrics(), lastLosses);
    this.latro = s.latroK() >= 2 ? new LatroGroups(s.latroK(), 1_000_000, tok) : null;
    this.consumer = new KafkaConsumer<>(consumerConfig(), new org.apache.kafka.common.serialization.StringDeserializer(),
        new ByteArrayDeserializer());
    this.producer = new KafkaProducer<>(producerConfig(), new StringSerializer(), o.topics().checkpoints().value().serializer());
    this.clientMetrics = List.of(new KafkaClientMetrics(consumer), new KafkaClientMetrics(producer));
    clientMetrics.forEach(m -> m.bindTo(o.metrics()));
    assign();
    if (newest.isPresent()) {
      resume(newest.get());
    } else {
      consumer.seekToBeginning(partitions);
      for (TopicPartition tp : partitions) {
        starts.put(tp, consumer.position(tp));
        ends.put(tp, consumer.position(tp));
      }
      o.progress().println("trainer: starting from " + o.init() + " (no checkpoint in " + o.out() + ")");
    }
    if (!lookups.isEmpty()) {
      consumer.seekToBeginning(lookups); // every start re-reads the gold answers
    }
    for (TopicPartition tp : partitions) {
      if (tp.topic().equals(o.topics().samples().name())) {
        sampleNext.put(tp, ends.get(tp));
      }
    }
    this.reference = Checkpoints.load(referenceDir, Transformer.defaultDevice());
    this.progress = new Progress(o.progress(), s.progressSteps());
  }

  /** Opens the trainer: removes incomplete checkpoints, resumes from the newest complete one or from {@code init}. */
  public static Trainer open(Options o) {
    return new Trainer(o);
  }

  /** Trains until {@code stop} says so or {@code trainer.max.steps} is reached; checkpoints what it trained at the end of max steps. */
  public void run(BooleanSupplier stop) {
    while (!stop.getAsBoolean()) {
      if (s.maxSteps() > 0 && batches >= s.maxSteps()) {
        if (unsaved()) {
          checkpoint();
        }
        return;
      }
      Batch batch = nextBatch(stop);
      if (batch != null) {
        step(batch);
      }
      if (steps.size() >= s.checkpointSteps() || (unsaved() && checkpointDue())) {
        checkpoint();
      }
    }
  }

  /** Whether steps or skipped records wait for a checkpoint. */
  private boolean unsaved() {
    return !steps.isEmpty() || !skipped.isEmpty();
  }

  private boolean checkpointDue() {
    return Duration.ofNanos(System.nanoTime() - lastCheckpointNanos).compareTo(s.checkpointInterval()) >= 0;
  }

  /** The records of one micro-batch: those to train and the duplicates and poison records skipped on the way. */
  record Batch(List<Item> items, List<Manifest.Record> skipped, Map<TopicPartition, Long> ends) {}

  /**
   * The next micro-batch: full by records or tokens, or {@code max.wait} after its first record;
   * null on stop, or when the input is idle and trained steps wait for their time-based checkpoint.
   */
  Batch nextBatch(BooleanSupplier stop) {
    List<Item> items = new ArrayList<>();
    List<Manifest.Record> skips = new ArrayList<>();
    Map<TopicPartition, Long> batchEnds = new LinkedHashMap<>(ends);
    LinkedHashSet<String> ids = new LinkedHashSet<>();
    int tokens = 0;
    long deadline = Long.MAX_VALUE;
    while (true) {
      if (pending.isEmpty()) {
        if (stop.getAsBoolean() || (items.isEmpty() && unsaved() && checkpointDue())) {
          return null; // skipped records without items were consumed below; a partial batch is dropped
        }
        consumer.poll(Duration.ofMillis(50)).forEach(pending::add);
      }
      while (!pending.isEmpty()) {
        ConsumerRecord<String, byte[]> r = pending.peekFirst();
        if (latro != null && r.topic().equals(o.topics().problems().name())) {
          pending.pollFirst();
          for (Item.Latro g : latro.problem(o.topics().problems().value().deserializer().deserialize(r.topic(), r.value()))) {
            tokens += add(g, items, ids);
          }
          sampleEnds(batchEnds);
          if (!items.isEmpty() && deadline == Long.MAX_VALUE) {
            deadline = System.nanoTime() + s.maxWait().toNanos();
          }
          continue;
        }
        if (latro != null && r.topic().equals(o.topics().samples().name())) {
          if (latroRecord(r, items, ids, skips, batchEnds)) {
            return new Batch(items, skips, batchEnds); // full: this sample's group opens the next batch
          }
          tokens = items.stream().mapToInt(Item::length).sum();
          if (!items.isEmpty() && deadline == Long.MAX_VALUE) {
            deadline = System.nanoTime() + s.maxWait().toNanos();
          }
          continue;
        }
        Item item = decode(r);
        boolean duplicate = item != null && (seen.contains(item.id()) || ids.contains(item.id()));
        if (item != null && !duplicate && !items.isEmpty()
            && (items.size() >= s.batchRecords() || tokens + item.length() > s.batchTokens())) {
          return new Batch(items, skips, batchEnds); // full: this record opens the next batch
        }
        pending.pollFirst();
        batchEnds.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
        if (item == null || duplicate) {
          skips.add(new Manifest.Record(r.topic(), r.partition(), r.offset(), item == null ? null : item.id(),
              item == null ? "poison" : "duplicate"));
          meters.skippedRecord(item == null ? "poison" : "duplicate");
          continue;
        }
        items.add(item);
        ids.add(item.id());
        tokens += item.length();
        if (items.size() == 1) {
          deadline = System.nanoTime() + s.maxWait().toNanos();
        }
      }
      if (!items.isEmpty() && (items.size() >= s.batchRecords() || System.nanoTime() >= deadline)) {
        return new Batch(items, skips, batchEnds);
      }
      if (items.isEmpty() && !skips.isEmpty()) {
        // only skipped records so far: they are consumed all the same
        skipped.addAll(skips);
        skips.clear();
        ends.putAll(batchEnds);
      }
    }
  }

  /**
   * One samples record in LaTRO mode: buffered in its group (a completed group joins the batch),
   * or skipped when its sampleId was trained already. Returns true, consuming nothing, when the
   * record would complete a group but the batch is full.
   */
  private boolean latroRecord(ConsumerRecord<String, byte[]> r, List<Item> items, java.util.Set<String> ids,
      List<Manifest.Record> skips, Map<TopicPartition, Long> batchEnds) {
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    io.thinkstream.avro.Sample sample;
    try {
      sample = o.topics().samples().value().deserializer().deserialize(r.topic(), r.value());
    } catch (RuntimeException e) {
      sample = null;
    }
    boolean duplicate = sample != null && (seen.contains(sample.getSampleId()) || ids.contains(sample.getSampleId())
        || latro.contains(sample.getSampleId()));
    if (sample != null && !duplicate && latro.completes(sample) && items.size() >= s.batchRecords()) {
      return true;
    }
    pending.pollFirst();
    sampleNext.put(tp, r.offset() + 1);
    if (sample == null || duplicate) {
      skips.add(new Manifest.Record(r.topic(), r.partition(), r.offset(), sample == null ? null : sample.getSampleId(),
          sample == null ? "poison" : "duplicate"));
      meters.skippedRecord(sample == null ? "poison" : "duplicate");
    } else {
      Item.Latro g = latro.add(sample, new Item.Source(r.topic(), r.partition(), r.offset()));
      if (g != null) {
        add(g, items, ids);
      }
    }
    sampleEnds(batchEnds);
    return false;
  }

  private int add(Item.Latro g, List<Item> items, java.util.Set<String> ids) {
    items.add(g);
    ids.add(g.id());
    ids.addAll(g.sampleIds());
    return g.length();
  }

  /** A samples partition counts as consumed up to its earliest sample still waiting in an open group. */
  private void sampleEnds(Map<TopicPartition, Long> batchEnds) {
    sampleNext.forEach((tp, next) -> batchEnds.put(tp, latro.safeEnd(tp, next)));
  }

  private Item decode(ConsumerRecord<String, byte[]> r) {
    Item.Source source = new Item.Source(r.topic(), r.partition(), r.offset());
    try {
      if (r.topic().equals(o.topics().preferences().name())) {
        PreferencePair p = o.topics().preferences().value().deserializer().deserialize(r.topic(), r.value());
        return Item.of(p, source, tok);
      }
      SftExample e = o.topics().sftExamples().value().deserializer().deserialize(r.topic(), r.value());
      return Item.of(e, source, tok);
    } catch (RuntimeException e) {
      o.progress().println("trainer: skipping unreadable record " + source + ": " + e.getMessage());
      return null;
    }
  }

  /** One optimizer step on {@code batch}; a non-finite loss or gradient skips the update and is counted. */
  void step(Batch batch) {
    long start = System.nanoTime();
    Objectives.References refs = Objectives.references(model, reference, batch.items(), tok, Objectives.Weights.of(s));
    double loss;
    Map<String, Double> losses = new LinkedHashMap<>();
    try (NDManager step = model.newStepManager(); GradientCollector gc = step.getEngine().newGradientCollector()) {
      Objectives.Built built = Objectives.build(model, step, batch.items(), refs, Objectives.Weights.of(s), tok.padId());
      loss = built.total().toType(DataType.FLOAT64, false).getDouble();
      built.parts().forEach((k, v) -> losses.put(k, v.toType(DataType.FLOAT64, false).getDouble()));
      if (Double.isFinite(loss)) {
        gc.backward(built.total());
      }
    }
    AdamW.Update update = adam.step(Double.isFinite(loss));
    batches++;
    List<Manifest.Record> records = new ArrayList<>();
    long tokens = 0;
    long lag = 0;
    for (Item i : batch.items()) {
      if (i instanceof Item.Latro g) {
        for (int k = 0; k < g.sampleIds().size(); k++) {
          Item.Source src = g.sources().get(k);
          records.add(new Manifest.Record(src.topic(), src.partition(), src.offset(), g.sampleIds().get(k), "latro"));
          remember(g.sampleIds().get(k));
        }
      } else {
        records.add(new Manifest.Record(i.source().topic(), i.source().partition(), i.source().offset(), i.id(), i.objective()));
        remember(i.id());
      }
      tokens += i.length();
      lag += version - policyVersion(i);
    }
    steps.add(new Manifest.Step(batches, loss, losses, update.applied(), records));
    skipped.addAll(batch.skipped());
    ends.putAll(batch.ends());
    lastLosses.putAll(losses);
    double seconds = (System.nanoTime() - start) / 1e9;
    meters.step(batch.items(), tokens, seconds, update);
    progress.step(batches, loss, losses, batch.items().size(), tokens, seconds,
        batch.items().isEmpty() ? 0 : lag / (double) batch.items().size(), adam.skipped(), version);
  }

  private static long policyVersion(Item i) {
    return i instanceof Item.Pair p ? p.policyVersion() : i instanceof Item.Example e ? e.policyVersion()
        : i instanceof Item.Dialogue d ? d.policyVersion() : i instanceof Item.Latro g ? g.policyVersion() : 0;
  }

  private void remember(String id) {
    seen.add(id);
    while (seen.size() > s.dedupWindow()) {
      seen.remove(seen.iterator().next());
    }
  }

  /** Writes {@code v{version+1}} atomically, then commits the offsets and publishes the event. */
  void checkpoint() {
    if (!adam.parametersFinite()) {
      throw new IllegalStateException("the weights after step " + batches + " are not finite; refusing to checkpoint them");
    }
    long v = version + 1;
    Long parent = version == 0 ? null : version;
    List<Manifest.Range> ranges = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      ranges.add(new Manifest.Range(tp.topic(), tp.partition(), starts.get(tp), ends.get(tp)));
    }
    Map<String, Double> metrics = new LinkedHashMap<>(lastLosses);
    metrics.put("steps", (double) batches);
    metrics.put("optimizer_steps", (double) adam.steps());
    metrics.put("skipped_steps", (double) adam.skipped());
    String[] weightsSha = new String[1];
    Path dir = store.write(v, tmp -> {
      weightsSha[0] = Checkpoints.save(model, tok, tmp).sha256();
      copyTokenizer(tmp);
      Checkpoints.writeSynced(tmp.resolve(OPTIMIZER), optimizerState());
      Checkpoints.writeSynced(tmp.resolve(STATE), state());
    }, files -> new Manifest(v, parent, System.currentTimeMillis(), files, ranges, List.copyOf(steps),
        List.copyOf(skipped), metrics));
    version = v;
    Map<TopicPartition, OffsetAndMetadata> commit = new LinkedHashMap<>();
    ends.forEach((tp, off) -> commit.put(tp, new OffsetAndMetadata(off)));
    consumer.commitSync(commit);
    publish(dir, weightsSha[0], ranges, metrics);
    o.progress().printf(Locale.ROOT, "trainer: checkpoint v%d (%d steps, through step %d) at %s%n", v, steps.size(), batches, dir);
    meters.checkpoint();
    starts.putAll(ends);
    steps.clear();
    skipped.clear();
    lastCheckpointNanos = System.nanoTime();
    if (s.referenceRefresh() > 0 && v % s.referenceRefresh() == 0) {
      reference.close();
      referenceDir = dir;
      reference = Checkpoints.load(dir, Transformer.defaultDevice());
    }
  }

  private void publish(Path dir, String sha, List<Manifest.Range> ranges, Map<String, Double> metrics) {
    List<OffsetRange> offsets = new ArrayList<>();
    ranges.forEach(r -> offsets.add(new OffsetRange(r.topic(), r.partition(), r.start(), r.end())));
    Checkpoint event = Checkpoint.newBuilder().setVersion(version).setParent(version == 1 ? null : version - 1)
        .setUri(dir.toAbsolutePath().toString()).setSha256(sha).setConsumedOffsets(offsets).setTrainMetrics(metrics)
        .setCreatedAt(Instant.now()).build();
    try {
      producer.send(new ProducerRecord<>(o.topics().checkpoints().name(), Topics.checkpointKey(version), event)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing checkpoint v" + version, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot publish checkpoint v" + version + ": " + e.getCause().getMessage(), e);
    }
  }

  /** The built-in tokenizer's files {@link Checkpoints#save} wrote; another's are copied from the initial checkpoint. */
  private void copyTokenizer(Path tmp) {
    if (tok instanceof io.thinkstream.model.SyntheticTokenizer) {
      return;
    }
    for (String name : TOKENIZER_FILES) {
      Path f = o.init().resolve(name);
      if (Files.exists(f)) {
        try {
          Checkpoints.writeSynced(tmp.resolve(name), Files.readAllBytes(f));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot copy " + f, e);
        }
      }
    }
  }

  private byte[] optimizerState() {
    double[][] moments = adam.moments();
    try (NDManager tmp = model.newStepManager()) {
      NDArray m = tmp.create(moments[0]);
      m.setName("exp_avg");
      NDArray v = tmp.create(moments[1]);
      v.setName("exp_avg_sq");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      new NDList(m, v).encode(out, NDList.Encoding.SAFETENSORS);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode the optimizer state", e);
    }
  }

  private byte[] state() {
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("version", version + 1);
    state.put("steps", batches);
    state.put("optimizer_steps", adam.steps());
    state.put("skipped_steps", adam.skipped());
    state.put("schedule_position", adam.steps());
    state.put("reference", referenceDir.toAbsolutePath().toString());
    state.put("dedup", List.copyOf(seen));
    try {
      return Manifest.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise the trainer state", e);
    }
  }

  private void resume(Manifest m) {
    Path dir = store.dir(m.version());
    version = m.version();
    try {
      JsonNode state = Manifest.JSON.readTree(dir.resolve(STATE).toFile());
      batches = state.get("steps").asLong();
      state.get("dedup").forEach(id -> seen.add(id.asText()));
      referenceDir = Path.of(state.get("reference").asText()); // the reference this checkpoint's steps used ...
      if (s.referenceRefresh() > 0 && version % s.referenceRefresh() == 0) {
        referenceDir = dir; // ... which this checkpoint itself replaced
      }
      try (NDManager tmp = model.newStepManager(); InputStream in = Files.newInputStream(dir.resolve(OPTIMIZER))) {
        NDList moments = NDList.decode(tmp, in);
        adam.restore(moments.get(0).toType(DataType.FLOAT64, false).toDoubleArray(),
            moments.get(1).toType(DataType.FLOAT64, false).toDoubleArray(), state.get("optimizer_steps").asInt(),
            state.get("skipped_steps").asInt());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the trainer state of " + dir, e);
    }
    Map<TopicPartition, Long> at = new LinkedHashMap<>();
    m.offsets().forEach(r -> at.put(new TopicPartition(r.topic(), r.partition()), r.end()));
    List<TopicPartition> fresh = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      if (at.containsKey(tp)) {
        consumer.seek(tp, at.get(tp));
      } else {
        fresh.add(tp);
      }
    }
    if (!fresh.isEmpty()) {
      consumer.seekToBeginning(fresh); // an empty collection would mean every assigned partition
    }
    for (TopicPartition tp : partitions) {
      starts.put(tp, consumer.position(tp));
      ends.put(tp, consumer.position(tp));
    }
    o.progress().printf(Locale.ROOT, "trainer: resumed from %s (step %d, optimizer step %d)%n", dir, batches, adam.steps());
    // the event may have been lost to a crash between the rename and the send: publish again (same key)
    List<Manifest.Range> ranges = m.offsets();
    publish(dir, Checkpoints.sha256(dir.resolve(Checkpoints.WEIGHTS)), ranges, m.metrics());
  }

  private void assign() {
    List<String> inputs = new ArrayList<>(List.of(o.topics().preferences().name(), o.topics().sftExamples().name()));
    if (latro != null) {
      inputs.add(o.topics().samples().name());
      for (PartitionInfo p : consumer.partitionsFor(o.topics().problems().name(), Duration.ofSeconds(30))) {
        lookups.add(new TopicPartition(p.topic(), p.partition()));
      }
    }
    for (String topic : inputs) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalArgumentException("topic " + topic + " does not exist; create it with 'thinkstream topics create'");
      }
      infos.stream().map(p -> new TopicPartition(p.topic(), p.partition()))
          .sorted(java.util.Comparator.comparingInt(TopicPartition::partition)).forEach(partitions::add);
    }
    List<TopicPartition> all = new ArrayList<>(partitions);
    all.addAll(lookups);
    consumer.assign(all);
  }

  private Map<String, Object> consumerConfig() {
    Map<String, Object> c = new LinkedHashMap<>(o.kafka());
    c.put(ConsumerConfig.GROUP_ID_CONFIG, s.groupId());
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return c;
  }

  private Map<String, Object> producerConfig() {
    Map<String, Object> c = new LinkedHashMap<>(o.kafka());
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    return c;
  }

  public long version() {
    return version;
  }

  public long steps() {
    return batches;
  }

  public Transformer model() {
    return model;
  }

  @Override
  public void close() {
    clientMetrics.forEach(KafkaClientMetrics::close);
    consumer.close();
    producer.close();
    adam.close();
    model.close();
    reference.close();
  }

  /** Micrometer meters of the trainer, in the registry it is given. */
  private static final class Meters {
    private final MeterRegistry registry;
    private final Counter steps;
    private final Counter skippedSteps;
    private final Counter tokens;
    private final Counter checkpoints;
    private final Timer stepTime;

    Meters(MeterRegistry registry, Map<String, Double> losses) {
      this.registry = registry;
      this.steps = registry.counter("thinkstream.trainer.steps");
      this.skippedSteps = registry.counter("thinkstream.trainer.steps.skipped");
      this.tokens = registry.counter("thinkstream.trainer.tokens");
      this.checkpoints = registry.counter("thinkstream.trainer.checkpoints");
      this.stepTime = registry.timer("thinkstream.trainer.step");
      for (String objective : List.of("dpo", "pit", "sft", "ssft", "multiturn", "latro")) {
        registry.gauge("thinkstream.trainer.loss", List.of(io.micrometer.core.instrument.Tag.of("objective", objective)),
            losses, l -> l.getOrDefault(objective, Double.NaN));
      }
    }

    void step(List<Item> items, long tokenCount, double seconds, AdamW.Update update) {
      steps.increment();
      if (!update.applied()) {
        skippedSteps.increment();
      }
      tokens.increment(tokenCount);
      stepTime.record(Duration.ofNanos((long) (seconds * 1e9)));
      items.forEach(i -> registry.counter("thinkstream.trainer.records", "objective", i.objective()).increment());
    }

    void skippedRecord(String why) {
      registry.counter("thinkstream.trainer.records.skipped", "reason", why).increment();
    }

    void checkpoint() {
      checkpoints.increment();
    }
  }
}
