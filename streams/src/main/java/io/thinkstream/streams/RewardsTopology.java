package io.thinkstream.streams;

import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.JudgeRequest;
import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.ExploreResult;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SftExample;
import io.thinkstream.schemas.AvroSerde;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.RewardsConfig.Settings;
import io.thinkstream.streams.avro.GradedSample;
import io.thinkstream.streams.avro.JudgeGroup;
import io.thinkstream.streams.avro.WaitingSample;
import io.thinkstream.streams.avro.PitSearch;
import io.thinkstream.streams.avro.SampleGroup;
import io.thinkstream.streams.internal.DedupProcessor;
import io.thinkstream.streams.internal.GroupProcessor;
import io.thinkstream.streams.internal.JudgeClose;
import io.thinkstream.streams.internal.JudgePairs;
import io.thinkstream.streams.internal.OutputLimit;
import io.thinkstream.streams.internal.OutcomePairs;
import io.thinkstream.streams.internal.PitSearchProcessor;
import io.thinkstream.streams.internal.StalenessFilter;
import io.thinkstream.streams.internal.StoreSchemas;
import io.thinkstream.streams.internal.StoreWriter;
import io.thinkstream.streams.internal.VerifyProcessor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * The rewards topology: samples are deduplicated, filtered for staleness and verified against
 * their problem's gold answer (OUTCOME rewards); graded samples are grouped per problem and policy
 * version into SFT examples and OUTCOME pairs; incorrect samples start a first-pit search whose
 * explore results come back as FIRST_PIT rewards and PIT pairs; with a judge, each closed group's
 * responses go to the judge worker ({@code judge-requests}) and its answer ({@code judge-results})
 * closes the group into JUDGE rewards and JUDGE pairs — no external call runs on a stream thread.
 * Every processor, store and branch is named, so internal topic and store names stay stable
 * across releases.
 *
 * <p>Every store is bounded. problems: one entry per problem of the (retained) problems topic;
 * sample ids: the dedup window; stale counts: one per policy version; waiting samples:
 * problem.wait.ms and problem.wait.max; groups and their samples: K samples or group.timeout.ms;
 * sft-seen: one short entry per problem (at most sft.max.per.problem hashes); pit searches and
 * their deadlines: explore.timeout.ms; judged groups and early judge results: judge.result.timeout.ms.
 */
final class RewardsTopology {
  static final String PROBLEMS_STORE = "problems-store";
  static final String CHECKPOINTS_STORE = "checkpoints-store";
  static final String DEDUP_STORE = "sample-ids-store";
  static final String STALE_STORE = "stale-samples-store";
  static final String WAITING_STORE = "waiting-samples-store";
  static final String GROUPS_STORE = "groups-store";
  static final String GROUP_SAMPLES_STORE = "group-samples-store";
  static final String SFT_SEEN_STORE = "sft-seen-store";
  static final String PIT_STORE = "pit-searches-store";
  static final String PIT_DEADLINES_STORE = "pit-deadlines-store";
  static final String JUDGE_GROUPS_STORE = "judge-groups-store";
  static final String JUDGE_RESULTS_STORE = "judge-early-results-store";

  private RewardsTopology() {}

  static StreamsBuilder build(StreamsBuilder builder, Topics topics, Settings settings) {
    return build(builder, topics, settings, RewardsTopology::pairBuilders);
  }

  /** The topology with other pair builders (tests: one that throws). */
  static StreamsBuilder build(StreamsBuilder builder, Topics topics, Settings settings,
      java.util.function.Function<Settings, List<GroupProcessor.Builder>> pairBuilders) {
    Serde<String> strings = Serdes.String();
    Serde<GradedSample> gradedSerde = StoreSchemas.serde(GradedSample.class);
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(PROBLEMS_STORE), strings, topics.problems().value()));
    builder.addStateStore(Stores.windowStoreBuilder(
        Stores.persistentWindowStore(DEDUP_STORE, settings.dedupWindow().multipliedBy(2), settings.dedupWindow(), false),
        strings, Serdes.Long()));
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(STALE_STORE), strings, Serdes.Long()));
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(WAITING_STORE), strings, StoreSchemas.serde(WaitingSample.class)));
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(GROUPS_STORE), strings, StoreSchemas.serde(SampleGroup.class))
        .withCachingEnabled()); // a group's header changes per sample: the cache sends one changelog write per commit
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(GROUP_SAMPLES_STORE), strings, gradedSerde).withCachingEnabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(SFT_SEEN_STORE), strings, strings));
    // Not cached: a search is written once per explore result, seconds apart, so caching merges no
    // writes; its entries (a whole sample each) would only fill the thread cache and push the open
    // groups' samples out of it, into RocksDB and the changelog, before the group closes.
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(PIT_STORE), strings, StoreSchemas.serde(PitSearch.class)));
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(PIT_DEADLINES_STORE), strings, strings));
    // Checkpoints are keyed by model name, not problemId: every task needs all of them.
    builder.addGlobalStore(Stores.keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore(CHECKPOINTS_STORE), strings, topics.checkpoints().value()).withLoggingDisabled(),
        topics.checkpoints().name(), consumed(topics.checkpoints(), "checkpoints-source"),
        () -> StoreWriter.<Checkpoint>global(CHECKPOINTS_STORE));

    builder.stream(topics.problems().name(), consumed(topics.problems(), "problems-source"))
        .process(() -> StoreWriter.<Problem>of(PROBLEMS_STORE), Named.as("problems-to-store"), PROBLEMS_STORE);

    KStream<String, SpecificRecord> verified = builder
        .stream(topics.samples().name(), consumed(topics.samples(), "samples-source"))
        .processValues(() -> new DedupProcessor(DEDUP_STORE, settings.dedupWindow()), Named.as("dedup"), DEDUP_STORE)
        .processValues(() -> new StalenessFilter(CHECKPOINTS_STORE, STALE_STORE, settings.maxPolicyLag()),
            Named.as("staleness"), STALE_STORE)
        .process(() -> new VerifyProcessor(PROBLEMS_STORE, WAITING_STORE, AvroSerde.of(Sample.class),
            settings.problemWait(), settings.problemWaitMax()), Named.as("verify"), PROBLEMS_STORE, WAITING_STORE);
    KStream<String, GradedSample> graded = verified
        .filter((problemId, v) -> v instanceof GradedSample, Named.as("graded"))
        .mapValues(v -> (GradedSample) v, Named.as("as-graded"));
    KStream<String, SpecificRecord> unverifiable = verified
        .filter((problemId, v) -> !(v instanceof GradedSample), Named.as("unverifiable"));

    // unlabelled samples have no outcome: they reach the judge only
    graded.filter((problemId, g) -> g.getGold() != null, Named.as("labelled"))
        .map((problemId, g) -> KeyValue.pair(g.getSampleId(), outcomeReward(g)), Named.as("outcome-reward"))
        .to(topics.rewards().name(), produced(topics.rewards(), "outcome-rewards-sink", settings.maxOutputBytes()));

    Optional<JudgePairs> judge = settings.judging()
        ? Optional.of(new JudgePairs(settings.judgeRho(), settings.thoughtMarker())) : Optional.empty();
    KStream<String, SpecificRecord> grouped = graded.process(
        () -> new GroupProcessor(GROUPS_STORE, GROUP_SAMPLES_STORE, topics.samples().name(), settings.expectedK(),
            settings.groupTimeout(), pairBuilders.apply(settings), judge),
        Named.as("group"), GROUPS_STORE, GROUP_SAMPLES_STORE, SFT_SEEN_STORE);

    KStream<String, SpecificRecord> pitStarted = graded
        .filter((problemId, g) -> g.getGold() != null && !g.getCorrect(), Named.as("incorrect"))
        .selectKey((problemId, g) -> g.getSampleId(), Named.as("by-sample-id"))
        .repartition(Repartitioned.with(strings, OutputLimit.bounded(gradedSerde, settings.maxOutputBytes()))
            .withName("pit-by-sample"))
        .process(() -> new PitSearchProcessor.Start(PIT_STORE, PIT_DEADLINES_STORE, settings.exploreK(),
            settings.exploreMaxSteps(), settings.exploreParallel()), Named.as("pit-start"), PIT_STORE, PIT_DEADLINES_STORE);
    KStream<String, SpecificRecord> pitStepped = builder
        .stream(topics.exploreResults().name(), consumed(topics.exploreResults(), "explore-results-source"))
        .process(() -> new PitSearchProcessor.Step(PIT_STORE, PIT_DEADLINES_STORE, settings.exploreK(),
            settings.exploreTimeout()), Named.as("pit-step"), PIT_STORE, PIT_DEADLINES_STORE);

    KStream<String, SpecificRecord> out = grouped
        .filter((k, v) -> !(v instanceof JudgeGroup), Named.as("not-judged"))
        .merge(pitStarted, Named.as("merge-pit-start"))
        .merge(pitStepped, Named.as("merge-pit-step"))
        .merge(unverifiable, Named.as("merge-unverifiable"));
    if (judge.isPresent()) {
      out = out.merge(judged(builder, topics, settings, judge.get(), grouped), Named.as("merge-judged"));
    }
    route(out, topics, settings.maxOutputBytes());
    return builder;
  }

  /**
   * Closed groups wait, keyed by groupId, for the judge worker's result: the group travels
   * through a repartition topic so that it meets its result (judge-results, keyed by groupId) in
   * the same task.
   */
  private static KStream<String, SpecificRecord> judged(StreamsBuilder builder, Topics topics, Settings settings,
      JudgePairs judge, KStream<String, SpecificRecord> grouped) {
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(JUDGE_GROUPS_STORE), Serdes.String(), StoreSchemas.serde(JudgeGroup.class)));
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(JUDGE_RESULTS_STORE), Serdes.String(), topics.judgeResults().value()));
    String samplesTopic = topics.samples().name();
    KStream<String, SpecificRecord> fromGroups = grouped
        .filter((groupId, v) -> v instanceof JudgeGroup, Named.as("judged"))
        .mapValues(v -> (JudgeGroup) v, Named.as("as-judge-group"))
        .repartition(Repartitioned.with(Serdes.String(),
            OutputLimit.bounded(StoreSchemas.serde(JudgeGroup.class), settings.maxOutputBytes())).withName("judge-by-group"))
        .process(() -> new JudgeClose.Pending(JUDGE_GROUPS_STORE, JUDGE_RESULTS_STORE, judge, samplesTopic,
            settings.judgeResultTimeout()), Named.as("judge-pending"), JUDGE_GROUPS_STORE, JUDGE_RESULTS_STORE);
    KStream<String, SpecificRecord> fromResults = builder
        .stream(topics.judgeResults().name(), consumed(topics.judgeResults(), "judge-results-source"))
        .process(() -> new JudgeClose.Result(JUDGE_GROUPS_STORE, JUDGE_RESULTS_STORE, judge, samplesTopic),
            Named.as("judge-result"), JUDGE_GROUPS_STORE, JUDGE_RESULTS_STORE);
    return fromGroups.merge(fromResults, Named.as("merge-judge-results"));
  }

  /** New builders for each group processor: a builder holds its task's stores, so tasks must not share one. */
  private static List<GroupProcessor.Builder> pairBuilders(Settings settings) {
    List<GroupProcessor.Builder> builders = new ArrayList<>();
    builders.add(new OutcomePairs(settings.sftMaxPerProblem(), SFT_SEEN_STORE));
    return builders;
  }

  /** Sends each output record to the topic of its type. */
  private static void route(KStream<String, SpecificRecord> out, Topics topics, int maxBytes) {
    out.split(Named.as("out-"))
        .branch((k, v) -> v instanceof SftExample, Branched.withConsumer(
            s -> s.mapValues(v -> (SftExample) v, Named.as("as-sft")).to(topics.sftExamples().name(),
                produced(topics.sftExamples(), "sft-examples-sink", maxBytes)), "sft"))
        .branch((k, v) -> v instanceof PreferencePair, Branched.withConsumer(
            s -> s.mapValues(v -> (PreferencePair) v, Named.as("as-pair")).to(topics.preferences().name(),
                produced(topics.preferences(), "preferences-sink", maxBytes)), "pairs"))
        .branch((k, v) -> v instanceof Reward, Branched.withConsumer(
            s -> s.mapValues(v -> (Reward) v, Named.as("as-reward")).to(topics.rewards().name(),
                produced(topics.rewards(), "pit-rewards-sink", maxBytes)), "rewards"))
        .branch((k, v) -> v instanceof ExploreRequest, Branched.withConsumer(
            s -> s.mapValues(v -> (ExploreRequest) v, Named.as("as-request")).to(topics.exploreRequests().name(),
                produced(topics.exploreRequests(), "explore-requests-sink", maxBytes)), "requests"))
        .branch((k, v) -> v instanceof JudgeRequest, Branched.withConsumer(
            s -> s.mapValues(v -> (JudgeRequest) v, Named.as("as-judge-request")).to(topics.judgeRequests().name(),
                produced(topics.judgeRequests(), "judge-requests-sink", maxBytes)), "judge-requests"))
        .branch((k, v) -> v instanceof DeadLetter, Branched.withConsumer(
            s -> s.mapValues(v -> (DeadLetter) v, Named.as("as-dead-letter")).to(topics.deadLetters().name(),
                produced(topics.deadLetters(), "dead-letters-sink", maxBytes)), "dead-letters"))
        .noDefaultBranch();
  }

  private static Reward outcomeReward(GradedSample g) {
    return Reward.newBuilder()
        .setSampleId(g.getSampleId())
        .setProblemId(g.getProblemId())
        .setKind(RewardKind.OUTCOME)
        .setValue(g.getCorrect() ? 1.0 : 0.0) // a last-number guess is 0: only a stated answer is correct
        .setDetails(g.getVerdict())
        .setCreatedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
        .build();
  }

  private static <V> Consumed<String, V> consumed(Topic<String, V> topic, String name) {
    return Consumed.with(topic.key(), topic.value()).withName(name);
  }

  /** A sink whose records over {@code maxBytes} go to the dead letters instead ({@link OutputLimit}). */
  private static <V> Produced<String, V> produced(Topic<String, V> topic, String name, int maxBytes) {
    return Produced.with(topic.key(), OutputLimit.bounded(topic.value(), maxBytes)).withName(name);
  }
}
