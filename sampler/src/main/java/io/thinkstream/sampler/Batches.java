package io.thinkstream.sampler;

import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.Problem;
import io.thinkstream.model.SamplingParams;
import io.thinkstream.sampler.SamplerBackend.Completion;
import io.thinkstream.sampler.internal.ExploreDraft;
import io.thinkstream.sampler.internal.Ledger;
import io.thinkstream.sampler.internal.SampleDraft;
import io.thinkstream.schemas.SampleIds;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sampler's work between polls: input records become sequences (K samples per problem,
 * turn by turn; k completions per exploration), sequences of many records share a generate call,
 * and finished records leave through the {@link Ledger} with their offsets. Runs on the sampling
 * thread only.
 */
final class Batches {
  private static final Logger LOG = LoggerFactory.getLogger(Batches.class);

  private final Topics topics;
  private final SamplerConfig.Settings s;
  private final SamplerBackend backend;
  private final SamplerMetrics metrics;
  private final Ledger ledger = new Ledger();
  private final ArrayDeque<SampleDraft> sampleQueue = new ArrayDeque<>();
  private final ArrayDeque<Unit> exploreQueue = new ArrayDeque<>();

  Batches(Topics topics, SamplerConfig.Settings settings, SamplerBackend backend, SamplerMetrics metrics) {
    this.topics = topics;
    this.s = settings;
    this.backend = backend;
    this.metrics = metrics;
  }

  /** Sequences waiting for a batch. */
  int queued() {
    return sampleQueue.size() + exploreQueue.size();
  }

  /** The completed records, to commit in one transaction. */
  Ledger.Ready drain() {
    return ledger.drain();
  }

  /** One exploration completion to draw: completion {@code j} of a request. */
  private record Unit(ExploreDraft draft, int j) {}

  void accept(ConsumerRecords<byte[], byte[]> records) {
    for (ConsumerRecord<byte[], byte[]> r : records) {
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      if (r.topic().equals(topics.problems().name())) {
        acceptProblem(tp, r);
      } else {
        acceptExplore(tp, r);
      }
    }
  }

  private void acceptProblem(TopicPartition tp, ConsumerRecord<byte[], byte[]> r) {
    Problem p;
    try {
      p = topics.problems().value().deserializer().deserialize(r.topic(), r.value());
    } catch (RuntimeException e) {
      deadLetter(tp, r, "cannot decode Problem: " + e.getMessage());
      return;
    }
    Ledger.Entry entry = new Ledger.Entry(tp, r.offset(), r.key(), r.value(), s.k());
    ledger.add(entry);
    for (int i = 0; i < s.k(); i++) {
      String tag = s.strategies() == 0 ? null : PromptFormat.tag(i % s.strategies() + 1);
      sampleQueue.addLast(new SampleDraft(entry, p, tag, SampleIds.seed(s.seed(), p.getId(), i)));
    }
  }

  private void acceptExplore(TopicPartition tp, ConsumerRecord<byte[], byte[]> r) {
    ExploreRequest req;
    try {
      req = topics.exploreRequests().value().deserializer().deserialize(r.topic(), r.value());
    } catch (RuntimeException e) {
      deadLetter(tp, r, "cannot decode ExploreRequest: " + e.getMessage());
      return;
    }
    ExploreDraft draft = new ExploreDraft(new Ledger.Entry(tp, r.offset(), r.key(), r.value(), Math.max(1, req.getK())), req);
    ledger.add(draft.entry());
    if (draft.k() == 0) {
      finishExplore(draft);
    }
    for (int j = 0; j < draft.k(); j++) {
      exploreQueue.addLast(new Unit(draft, j));
    }
  }

  private void deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> r, String why) {
    Ledger.Entry entry = new Ledger.Entry(tp, r.offset(), r.key(), r.value(), 1);
    ledger.add(entry);
    entry.fail(deadLetter(entry, why));
  }

  private ProducerRecord<byte[], byte[]> deadLetter(Ledger.Entry e, String why) {
    LOG.warn("dead letter {}-{}@{}: {}", e.partition().topic(), e.partition().partition(), e.offset(), why);
    DeadLetter letter = new DeadLetter(e.partition().topic(), e.partition().partition(), e.offset(), why,
        ByteBuffer.wrap(e.value() == null ? new byte[0] : e.value()), Instant.now());
    return new ProducerRecord<>(topics.deadLetters().name(), e.key(),
        topics.deadLetters().value().serializer().serialize(topics.deadLetters().name(), letter));
  }

  /**
   * Generates one batch of up to {@code batch.max} sequences of one kind (problem turns or
   * explorations: they sample at different temperatures), oldest kind first.
   */
  void generateNext(SamplingParams params, SamplingParams exploreParams) {
    if (!sampleQueue.isEmpty() && (exploreQueue.isEmpty() || sampleQueue.size() >= s.batchMax()
        || exploreQueue.size() < s.batchMax() && sampleQueue.size() >= exploreQueue.size())) {
      generateSamples(params);
    } else if (!exploreQueue.isEmpty()) {
      generateExplorations(exploreParams);
    }
  }

  private void generateSamples(SamplingParams params) {
    List<SampleDraft> drafts = new ArrayList<>();
    List<SamplerBackend.Request> requests = new ArrayList<>();
    while (!sampleQueue.isEmpty() && drafts.size() < s.batchMax()) {
      SampleDraft d = sampleQueue.pollFirst();
      if (!d.entry().failed()) {
        drafts.add(d);
        requests.add(new SamplerBackend.Request(d.nextPrompt(), d.nextSeed()));
      }
    }
    long start = System.currentTimeMillis();
    for (SampleDraft d : drafts) {
      if (d.starting()) {
        metrics.queueWait.record(Math.max(0, start - d.problem().getCreatedAt().toEpochMilli()), TimeUnit.MILLISECONDS);
      }
    }
    List<Generated> batch = generate(requests, params);
    long ms = System.currentTimeMillis() - start;
    Instant now = Instant.now();
    for (int i = 0; i < drafts.size(); i++) {
      SampleDraft d = drafts.get(i);
      Generated g = batch.get(i);
      if (d.entry().failed()) {
        continue; // another sample of its problem was refused in this batch
      } else if (g.error() != null) {
        d.entry().fail(deadLetter(d.entry(), "cannot sample problem " + d.problem().getId() + ": " + g.error()));
      } else if (d.record(g.policyVersion(), g.completion(), start, ms)) {
        d.entry().output(record(topics.samples(), d.problem().getId(), d.toSample(s.samplerId(), now)));
        d.entry().finishOne();
      } else {
        sampleQueue.addLast(d); // the next turn needs this one's answer: a later batch
      }
    }
  }

  private void generateExplorations(SamplingParams params) {
    List<Unit> units = new ArrayList<>();
    List<SamplerBackend.Request> requests = new ArrayList<>();
    while (!exploreQueue.isEmpty() && units.size() < s.batchMax()) {
      Unit u = exploreQueue.pollFirst();
      ExploreRequest r = u.draft().request();
      if (!u.draft().entry().failed()) {
        units.add(u);
        requests.add(new SamplerBackend.Request(new Prompt.Prefix(r.getPrefix()),
            SampleIds.seed(s.seed(), r.getSampleId() + "#" + r.getStepIndex(), u.j())));
      }
    }
    List<Generated> batch = generate(requests, params);
    for (int i = 0; i < units.size(); i++) {
      Unit u = units.get(i);
      Generated g = batch.get(i);
      if (u.draft().entry().failed()) {
        continue;
      } else if (g.error() != null) {
        u.draft().entry().fail(deadLetter(u.draft().entry(), "cannot explore " + u.draft().request().getSampleId() + ": " + g.error()));
      } else {
        u.draft().set(u.j(), g.completion().text());
        if (u.draft().entry().finishOne()) {
          finishExplore(u.draft());
        }
      }
    }
  }

  private void finishExplore(ExploreDraft d) {
    d.entry().output(record(topics.exploreResults(), d.request().getSampleId(), d.toResult()));
    if (d.k() == 0) {
      d.entry().finishOne();
    }
  }

  /** One sequence's outcome: its completion and the version that made it, or why the backend refused it. */
  private record Generated(long policyVersion, Completion completion, String error) {}

  /**
   * Generates the batch; when the backend refuses it as invalid (e.g. a prompt beyond the model's
   * positions), each request alone, so one poison record goes to dead-letters instead of failing
   * the batch on every retry.
   */
  private List<Generated> generate(List<SamplerBackend.Request> requests, SamplingParams params) {
    List<Generated> out = new ArrayList<>();
    if (requests.isEmpty()) {
      return out;
    }
    try {
      SamplerBackend.Batch batch = generateBatch(requests, params);
      batch.completions().forEach(c -> out.add(new Generated(batch.policyVersion(), c, null)));
    } catch (IllegalArgumentException e) {
      for (SamplerBackend.Request r : requests) {
        try {
          SamplerBackend.Batch one = generateBatch(List.of(r), params);
          out.add(new Generated(one.policyVersion(), one.completions().get(0), null));
        } catch (IllegalArgumentException refused) {
          out.add(new Generated(-1, null, refused.getMessage()));
        }
      }
    }
    return out;
  }

  private SamplerBackend.Batch generateBatch(List<SamplerBackend.Request> requests, SamplingParams params) {
    SamplerBackend.Batch batch = backend.generate(requests, params);
    if (batch.completions().size() != requests.size()) {
      throw new IllegalStateException("backend returned " + batch.completions().size() + " completions for "
          + requests.size() + " requests");
    }
    metrics.batchFill.record(requests.size() / (double) s.batchMax());
    metrics.tokens.increment(batch.completions().stream().mapToInt(Completion::completionTokens).sum());
    metrics.policyVersion.set(batch.policyVersion());
    return batch;
  }

  void forget(Collection<TopicPartition> partitions) {
    Set<TopicPartition> gone = new HashSet<>(partitions);
    ledger.drop(gone);
    sampleQueue.removeIf(d -> gone.contains(d.entry().partition()));
    exploreQueue.removeIf(u -> gone.contains(u.draft().entry().partition()));
  }

  private static <V> ProducerRecord<byte[], byte[]> record(Topic<String, V> topic, String key, V value) {
    return new ProducerRecord<>(topic.name(), topic.key().serializer().serialize(topic.name(), key),
        topic.value().serializer().serialize(topic.name(), value));
  }
}
