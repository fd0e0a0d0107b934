package io.thinkstream.streams;

import io.thinkstream.avro.JudgeRequest;
import io.thinkstream.avro.JudgeResult;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import io.thinkstream.schemas.text.PromptFormat;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** A {@link TopologyTestDriver} over {@link RewardsTopology#build} with the application's real properties. */
final class Driver implements AutoCloseable {
  static final Topics TOPICS = Topics.DEFAULT;
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  final TopologyTestDriver driver;

  Driver(RewardsConfig.Settings settings, Path stateDir) {
    this(settings, Optional.empty(), stateDir);
  }

  Driver(RewardsConfig.Settings settings, Optional<Judge> judge, Path stateDir) {
    this(settings, stateDir, builder -> RewardsTopology.build(builder, TOPICS, settings));
  }

  Driver(RewardsConfig.Settings settings, Path stateDir,
      java.util.function.Function<StreamsBuilder, StreamsBuilder> topology) {
    RewardsApp.Config config = new RewardsApp.Config("dummy:9092", TOPICS, "rewards-test", stateDir.toString(),
        100, settings, Optional.empty(), Map.of(), Optional.empty(), "judge");
    Properties props = RewardsApp.properties(config);
    // The test driver drops dead letters that the deserialization handler sends under exactly_once_v2
    // (its mock producer has no open transaction then); the integration test covers the EOS path.
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    driver = new TopologyTestDriver(topology.apply(new StreamsBuilder()).build(props), props, T0);
  }

  /** Plays the judge worker: answers every pending judge request with {@code judge}; returns how many. */
  int judge(Judge judge) {
    TestOutputTopic<String, JudgeRequest> requests = output(TOPICS.judgeRequests());
    TestInputTopic<String, JudgeResult> results = input(TOPICS.judgeResults());
    int n = 0;
    for (JudgeRequest request : requests.readValuesToList()) {
      results.pipeInput(request.getGroupId(), JudgeWorker.judgeOnce(request, judge));
      n++;
    }
    return n;
  }

  <V> TestInputTopic<String, V> input(Topic<String, V> topic) {
    return driver.createInputTopic(topic.name(), topic.key().serializer(), topic.value().serializer(),
        T0, Duration.ofMillis(1));
  }

  <V> TestOutputTopic<String, V> output(Topic<String, V> topic) {
    return driver.createOutputTopic(topic.name(), topic.key().deserializer(), topic.value().deserializer());
  }

  static Problem problem(String id, String gold) {
    return Problem.newBuilder().setId(id).setSource("test").setQuestion("Q " + id).setGoldAnswer(gold)
        .setTask("gsm8k").setCreatedAt(T0).build();
  }

  static Sample sample(String problemId, String sampleId, long version, List<String> steps, String answer) {
    return Sample.newBuilder().setSampleId(sampleId).setProblemId(problemId).setPolicyVersion(version)
        .setPrompt(PromptFormat.prompt("Q " + problemId, "<think1>")).setSteps(steps).setAnswer(answer).setSumLogProb(-1.0).setSeed(1)
        .setSamplerId("test").setTimings(new SampleTimings(0L, 0L, 0, 0)).setCreatedAt(T0).build();
  }

  @Override
  public void close() {
    driver.close();
  }
}
