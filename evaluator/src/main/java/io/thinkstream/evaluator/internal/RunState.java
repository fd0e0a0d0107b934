package io.thinkstream.evaluator.internal;

import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.Evaluation;
import io.thinkstream.avro.OffsetRange;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.Sample;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the dashboard shows, rebuilt from the retained topics at start and kept current by the
 * feed: every evaluation and checkpoint, reward/pair/sample counts in 10-second buckets of record
 * time, and per problem its samples, rewards and pairs (with the pairs' offsets) for the lineage
 * view. Lineage keeps the newest {@code lineageProblems} problems; the rest is small.
 * All methods are synchronized: the feed writes while HTTP threads read.
 */
public final class RunState {
  public static final long BUCKET_MS = 10_000;
  private static final int BUCKETS_KEPT = 360; // one hour of 10 s buckets
  private static final int RECENT = 12;
  private static final int TEXT_LIMIT = 400;

  public record EvaluationView(long version, String suite, int n, int k, int samples, double temperature,
      double greedyPass1, double majK, double passK, double diversity, Map<String, Double> perStrategyAccuracy,
      Map<String, Double> perStrategyMeanTokens, long createdAt) {
    static EvaluationView of(Evaluation e) {
      return new EvaluationView(e.getVersion(), e.getSuite(), e.getN(), e.getK(), e.getSamplesPerProblem(),
          e.getTemperature(), e.getGreedyPass1(), e.getMajK(), e.getPassK(), e.getDiversity(),
          Map.copyOf(e.getPerStrategyAccuracy()), Map.copyOf(e.getPerStrategyMeanTokens()), e.getCreatedAt().toEpochMilli());
    }
  }

  public record Range(String topic, int partition, long start, long end) {}

  public record CheckpointView(long version, Long parent, String uri, String sha256, List<Range> consumed,
      Map<String, Double> trainMetrics, long createdAt) {
    static CheckpointView of(Checkpoint c) {
      List<Range> ranges = new ArrayList<>();
      for (OffsetRange r : c.getConsumedOffsets()) {
        ranges.add(new Range(r.getTopic(), r.getPartition(), r.getStartOffset(), r.getEndOffset()));
      }
      return new CheckpointView(c.getVersion(), c.getParent(), c.getUri(), c.getSha256(), ranges,
          Map.copyOf(c.getTrainMetrics()), c.getCreatedAt().toEpochMilli());
    }

    boolean covers(String topic, int partition, long offset) {
      return consumed.stream().anyMatch(r -> r.topic().equals(topic) && r.partition() == partition
          && r.start() <= offset && offset < r.end());
    }
  }

  public record SampleView(String sampleId, long policyVersion, String strategy, List<String> steps, String answer,
      int partition, long offset) {}

  public record RewardView(String sampleId, String kind, double value, Integer pitStep) {}

  public record PairView(String pairId, String kind, long policyVersion, double margin, List<String> sourceSampleIds,
      String topic, int partition, long offset, List<Long> trainedIn) {}

  public record Lineage(String problemId, String question, String gold, String source, List<SampleView> samples,
      List<RewardView> rewards, List<PairView> pairs, List<CheckpointView> checkpoints) {}

  /** Counts per series in 10-second buckets: bucket start (ms) to records. */
  public record Rates(Map<String, Map<Long, Integer>> rewards, Map<String, Map<Long, Integer>> pairs, Map<Long, Integer> samples) {}

  public record Totals(long problems, long samples, long rewards, long pairs, long checkpoints, long evaluations) {}

  private static final class ProblemLineage {
    String question;
    String gold;
    String source;
    final List<SampleView> samples = new ArrayList<>();
    final List<RewardView> rewards = new ArrayList<>();
    final List<PairView> pairs = new ArrayList<>();
  }

  private final int lineageProblems;
  private final List<EvaluationView> evaluations = new ArrayList<>();
  private final TreeMap<Long, CheckpointView> checkpoints = new TreeMap<>();
  private final Map<String, TreeMap<Long, Integer>> rewardRates = new TreeMap<>();
  private final Map<String, TreeMap<Long, Integer>> pairRates = new TreeMap<>();
  private final TreeMap<Long, Integer> sampleRates = new TreeMap<>();
  private final Deque<String> recentWithPairs = new ArrayDeque<>();
  private final LinkedHashMap<String, ProblemLineage> lineage;
  private long problems;
  private long samples;
  private long rewards;
  private long pairs;

  public RunState(int lineageProblems) {
    this.lineageProblems = lineageProblems;
    this.lineage = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, ProblemLineage> eldest) {
        return size() > RunState.this.lineageProblems;
      }
    };
  }

  public synchronized EvaluationView add(Evaluation e) {
    EvaluationView view = EvaluationView.of(e);
    evaluations.add(view);
    return view;
  }

  public synchronized CheckpointView add(Checkpoint c) {
    CheckpointView view = CheckpointView.of(c);
    checkpoints.put(c.getVersion(), view); // a re-published version replaces its earlier event
    return view;
  }

  public synchronized void add(Problem p) {
    problems++;
    ProblemLineage l = problem(p.getId());
    l.question = clip(p.getQuestion());
    l.gold = p.getGoldAnswer();
    l.source = p.getSource();
  }

  public synchronized void add(Sample s, int partition, long offset, long timestamp) {
    samples++;
    count(sampleRates, timestamp);
    problem(s.getProblemId()).samples.add(new SampleView(s.getSampleId(), s.getPolicyVersion(), s.getStrategy(),
        s.getSteps().stream().map(RunState::clip).toList(), clip(s.getAnswer()), partition, offset));
  }

  public synchronized void add(Reward r, long timestamp) {
    rewards++;
    count(rewardRates.computeIfAbsent(r.getKind().name(), k -> new TreeMap<>()), timestamp);
    problem(r.getProblemId()).rewards.add(new RewardView(r.getSampleId(), r.getKind().name(), r.getValue(), r.getPitStep()));
  }

  public synchronized void add(PreferencePair p, String topic, int partition, long offset, long timestamp) {
    pairs++;
    count(pairRates.computeIfAbsent(p.getKind().name(), k -> new TreeMap<>()), timestamp);
    problem(p.getProblemId()).pairs.add(new PairView(p.getPairId(), p.getKind().name(), p.getPolicyVersion(),
        p.getMargin(), List.copyOf(p.getSourceSampleIds()), topic, partition, offset, List.of()));
    recentWithPairs.remove(p.getProblemId());
    recentWithPairs.addFirst(p.getProblemId());
    while (recentWithPairs.size() > RECENT) {
      recentWithPairs.removeLast();
    }
  }

  public synchronized List<EvaluationView> evaluations() {
    return List.copyOf(evaluations);
  }

  public synchronized List<CheckpointView> checkpoints() {
    return List.copyOf(checkpoints.values());
  }

  public synchronized Rates rates() {
    Map<String, Map<Long, Integer>> r = new TreeMap<>();
    rewardRates.forEach((k, v) -> r.put(k, Map.copyOf(v)));
    Map<String, Map<Long, Integer>> p = new TreeMap<>();
    pairRates.forEach((k, v) -> p.put(k, Map.copyOf(v)));
    return new Rates(r, p, Map.copyOf(sampleRates));
  }

  public synchronized Totals totals() {
    return new Totals(problems, samples, rewards, pairs, checkpoints.size(), evaluations.size());
  }

  /** Problems that most recently got a preference pair, newest first: where a lineage is worth a look. */
  public synchronized List<String> recentProblems() {
    return List.copyOf(recentWithPairs);
  }

  /**
   * A problem's samples, rewards and pairs, each pair with the checkpoint versions whose consumed
   * offset ranges cover its offset (the checkpoints trained on it), and those checkpoints.
   */
  public synchronized Optional<Lineage> lineage(String problemId) {
    ProblemLineage l = lineage.get(problemId);
    if (l == null) {
      return Optional.empty();
    }
    List<PairView> pairViews = new ArrayList<>();
    TreeMap<Long, CheckpointView> trained = new TreeMap<>();
    for (PairView p : l.pairs) {
      List<Long> versions = new ArrayList<>();
      for (CheckpointView c : checkpoints.values()) {
        if (c.covers(p.topic(), p.partition(), p.offset())) {
          versions.add(c.version());
          trained.put(c.version(), c);
        }
      }
      pairViews.add(new PairView(p.pairId(), p.kind(), p.policyVersion(), p.margin(), p.sourceSampleIds(), p.topic(),
          p.partition(), p.offset(), versions));
    }
    return Optional.of(new Lineage(problemId, l.question, l.gold, l.source, List.copyOf(l.samples),
        List.copyOf(l.rewards), pairViews, List.copyOf(trained.values())));
  }

  private ProblemLineage problem(String id) {
    return lineage.computeIfAbsent(id, x -> new ProblemLineage());
  }

  private static void count(TreeMap<Long, Integer> buckets, long timestamp) {
    buckets.merge(timestamp - Math.floorMod(timestamp, BUCKET_MS), 1, Integer::sum);
    while (buckets.size() > BUCKETS_KEPT) {
      buckets.pollFirstEntry();
    }
  }

  private static String clip(String s) {
    return s == null || s.length() <= TEXT_LIMIT ? s : s.substring(0, TEXT_LIMIT) + "…";
  }
}
