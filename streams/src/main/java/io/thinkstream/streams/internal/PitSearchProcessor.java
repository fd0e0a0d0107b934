package io.thinkstream.streams.internal;

import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.ExploreResult;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.streams.avro.GradedSample;
import io.thinkstream.streams.avro.PitSearch;
import io.thinkstream.schemas.text.PromptFormat;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First-pit search (Self-Explore): for an incorrect sample, prefixes question + steps 1..i are
 * sent to the sampler as {@link ExploreRequest}s; the first i whose k completions contain no
 * correct one is the pit. Sequential mode asks for prefix i+1 only once prefix i still reached
 * the answer (fewer samples); parallel mode asks for every prefix at once (lower latency). The
 * outcome is a FIRST_PIT reward and a PIT pair: prompt = question + steps before the pit,
 * rejected = the pit step, chosen = the shortest correct completion of the previous prefix (a
 * reference solution when the pit is step 1). One processor handles both inputs — new incorrect
 * samples and explore results — because both are keyed by sampleId and share the search store.
 *
 * <p>Beside the searches, a deadline store indexes them by start time (key: the zero-padded start
 * in ms, NUL, the sampleId), so that eviction reads only the searches that are due. Scanning the
 * search store instead decoded every open search, a whole sample each, on every sweep: with the
 * sampler down for a while, that was most of a stream thread's time.
 */
public final class PitSearchProcessor {
  private static final Logger LOG = LoggerFactory.getLogger(PitSearchProcessor.class);

  private PitSearchProcessor() {}

  /** The deadline store's key of a search started at {@code startedAtMs}: ordered by start, then sampleId. */
  static String deadlineKey(long startedAtMs, String sampleId) {
    return startKey(startedAtMs) + '\u0000' + sampleId;
  }

  /** A start time as 19 digits, so that the keys' byte order is their numeric order (negative times count as 0). */
  private static String startKey(long startedAtMs) {
    String digits = Long.toString(Math.max(0, startedAtMs));
    return "0".repeat(19 - digits.length()) + digits;
  }

  /** Starts a search for each incorrect sample (keyed by sampleId). */
  public static final class Start implements Processor<String, GradedSample, String, SpecificRecord> {
    private final String storeName;
    private final String deadlinesName;
    private final int k;
    private final int maxSteps;
    private final boolean parallel;
    private ProcessorContext<String, SpecificRecord> context;
    private KeyValueStore<String, PitSearch> searches;
    private KeyValueStore<String, String> deadlines;

    public Start(String storeName, String deadlinesName, int k, int maxSteps, boolean parallel) {
      this.storeName = storeName;
      this.deadlinesName = deadlinesName;
      this.k = k;
      this.maxSteps = maxSteps;
      this.parallel = parallel;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
      this.context = context;
      this.searches = context.getStateStore(storeName);
      this.deadlines = context.getStateStore(deadlinesName);
    }

    @Override
    public void process(Record<String, GradedSample> record) {
      GradedSample sample = record.value();
      if (searches.get(sample.getSampleId()) != null || sample.getSteps().isEmpty()) {
        return;
      }
      int last = Math.min(sample.getSteps().size(), maxSteps);
      int requested = parallel ? last : 1;
      long now = context.currentSystemTimeMs();
      searches.put(sample.getSampleId(), new PitSearch(sample, last, requested, new HashMap<>(), new HashMap<>(), now));
      deadlines.put(deadlineKey(now, sample.getSampleId()), sample.getSampleId());
      for (int i = 1; i <= requested; i++) {
        context.forward(record.withKey(sample.getSampleId()).withValue(request(sample, i, k)));
      }
    }
  }

  /**
   * Advances a search with one explore result (keyed by sampleId), and evicts searches whose
   * explore results stopped coming (a sampler down, a request lost) after {@code timeout}: the
   * search store stays bounded, the eviction is counted, and the sample still gets the FIRST_PIT
   * reward its explored prefixes support (marked {@code evicted}), though no pair.
   */
  public static final class Step implements Processor<String, ExploreResult, String, SpecificRecord> {
    private final String storeName;
    private final String deadlinesName;
    private final int k;
    private final Duration timeout;
    private ProcessorContext<String, SpecificRecord> context;
    private KeyValueStore<String, PitSearch> searches;
    private KeyValueStore<String, String> deadlines;
    private Counter evicted;
    /** Whether this instance has swept the whole search store once (see {@link #indexAll}). */
    private boolean indexed;

    public Step(String storeName, String deadlinesName, int k, Duration timeout) {
      this.storeName = storeName;
      this.deadlinesName = deadlinesName;
      this.k = k;
      this.timeout = timeout;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
      this.context = context;
      this.searches = context.getStateStore(storeName);
      this.deadlines = context.getStateStore(deadlinesName);
      this.evicted = new Counter(context, "pit-search-evicted");
      // a sweep reads only the due searches, so it can run often: evictions come within a second of their time
      context.schedule(Punctuators.every(timeout), PunctuationType.WALL_CLOCK_TIME, this::evict);
    }

    private void evict(long now) {
      if (!indexed) {
        indexAll();
        indexed = true;
      }
      List<PitSearch> expired = new ArrayList<>();
      List<String> due = new ArrayList<>();
      // every key of a search started at or before now - timeout sorts below this one
      String end = startKey(now - timeout.toMillis()) + '\u0001';
      try (KeyValueIterator<String, String> entries = deadlines.range("", end)) {
        while (entries.hasNext()) {
          KeyValue<String, String> entry = entries.next();
          due.add(entry.key);
          PitSearch search = searches.get(entry.value);
          // a search of the same sample started later (after this one finished) has its own deadline
          if (search != null && now - search.getStartedAtMs() >= timeout.toMillis()) {
            expired.add(search);
          }
        }
      }
      due.forEach(key -> deadlines.put(key, null));
      for (PitSearch search : expired) {
        GradedSample sample = search.getSample();
        LOG.warn("first-pit search of {} evicted after {} ms: {} of {} prefixes explored", sample.getSampleId(),
            timeout.toMillis(), search.getCorrectCounts().size(), search.getLastStep());
        searches.put(sample.getSampleId(), null); // a delete that does not decode the old value
        evicted.increment();
        // every prefix before the first unexplored one still reached the answer: the pit lies after them
        int reached = 0;
        while (search.getCorrectCounts().getOrDefault(String.valueOf(reached + 1), 0) > 0) {
          reached++;
        }
        Map<String, String> details = new HashMap<>();
        details.put("explored", String.valueOf(search.getCorrectCounts().size()));
        details.put("steps", String.valueOf(sample.getSteps().size()));
        details.put("evicted", "no explore result after " + timeout.toMillis() + " ms");
        forward(sample.getSampleId(), Reward.newBuilder()
            .setSampleId(sample.getSampleId())
            .setProblemId(sample.getProblemId())
            .setKind(RewardKind.FIRST_PIT)
            .setValue(reached / (double) search.getLastStep())
            .setPitStep(null)
            .setDetails(details)
            .setCreatedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
            .build(), now);
      }
    }

    /**
     * Puts a deadline for every open search. Searches written before the deadline store existed
     * have none and would never be evicted; the puts of those that have one rewrite the same key.
     */
    private void indexAll() {
      List<KeyValue<String, String>> keys = new ArrayList<>();
      try (KeyValueIterator<String, PitSearch> all = searches.all()) {
        while (all.hasNext()) {
          KeyValue<String, PitSearch> e = all.next();
          keys.add(KeyValue.pair(deadlineKey(e.value.getStartedAtMs(), e.key), e.key));
        }
      }
      keys.forEach(kv -> deadlines.put(kv.key, kv.value));
    }

    @Override
    public void process(Record<String, ExploreResult> record) {
      ExploreResult result = record.value();
      PitSearch search = searches.get(result.getSampleId());
      if (search == null) {
        LOG.debug("explore result for {} step {}: no open search (finished or unknown)",
            result.getSampleId(), result.getStepIndex());
        return;
      }
      GradedSample sample = search.getSample();
      String step = String.valueOf(result.getStepIndex());
      // samplers hold no gold answers: the completions are verified here, with the one extractor
      int correct = 0;
      String shortest = null;
      for (String completion : result.getCompletions()) {
        if (Verifier.verify(completion, sample.getGold()).correct()) {
          correct++;
          if (shortest == null || completion.length() < shortest.length()) {
            shortest = completion;
          }
        }
      }
      search.getCorrectCounts().put(step, correct);
      if (shortest != null) {
        search.getShortestCorrect().put(step, shortest);
      }
      advance(search, record.timestamp());
    }

    private void advance(PitSearch search, long timestamp) {
      GradedSample sample = search.getSample();
      Map<String, Integer> counts = search.getCorrectCounts();
      for (int i = 1; i <= search.getLastStep(); i++) {
        Integer correct = counts.get(String.valueOf(i));
        if (correct == null) {
          if (search.getRequested() < i) {
            search.setRequested(i);
            forward(sample.getSampleId(), request(sample, i, k), timestamp);
          }
          searches.put(sample.getSampleId(), search);
          return;
        }
        if (correct == 0) {
          finish(search, i, timestamp);
          return;
        }
      }
      finish(search, 0, timestamp);
    }

    /** Emits the reward (and the pair when a chosen side exists); pit 0 means every prefix still reached the answer. */
    private void finish(PitSearch search, int pit, long timestamp) {
      GradedSample sample = search.getSample();
      searches.put(sample.getSampleId(), null); // a delete that does not decode the old value
      deadlines.put(deadlineKey(search.getStartedAtMs(), sample.getSampleId()), null);
      Map<String, String> details = new HashMap<>();
      details.put("explored", String.valueOf(search.getCorrectCounts().size()));
      details.put("steps", String.valueOf(sample.getSteps().size()));
      forward(sample.getSampleId(), Reward.newBuilder()
          .setSampleId(sample.getSampleId())
          .setProblemId(sample.getProblemId())
          .setKind(RewardKind.FIRST_PIT)
          .setValue(pit == 0 ? 1.0 : (pit - 1) / (double) search.getLastStep())
          .setPitStep(pit == 0 ? null : pit)
          .setDetails(details)
          .setCreatedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
          .build(), timestamp);
      if (pit == 0) {
        return;
      }
      String chosen = pit == 1 ? sample.getGoldSolution() : search.getShortestCorrect().get(String.valueOf(pit - 1));
      if (chosen == null) {
        LOG.debug("pit of {} at step {}: no correct completion to pair with", sample.getSampleId(), pit);
        return;
      }
      String prompt = PromptFormat.prefix(sample.getPrompt(), sample.getSteps().subList(0, pit - 1));
      String rejected = sample.getSteps().get(pit - 1);
      forward(sample.getProblemId(), OutcomePairs.pair(PairKind.PIT, prompt, chosen, rejected, 1.0, sample, sample),
          timestamp);
    }

    private void forward(String key, SpecificRecord value, long timestamp) {
      context.forward(new Record<>(key, value, timestamp));
    }
  }

  static ExploreRequest request(GradedSample sample, int stepIndex, int k) {
    return ExploreRequest.newBuilder()
        .setSampleId(sample.getSampleId())
        .setProblemId(sample.getProblemId())
        .setStepIndex(stepIndex)
        .setPrefix(PromptFormat.prefix(sample.getPrompt(), sample.getSteps().subList(0, stepIndex)))
        .setK(k)
        .setPolicyVersion(sample.getPolicyVersion())
        .build();
  }
}
