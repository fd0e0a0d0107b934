package io.thinkstream.streams;

import static io.thinkstream.streams.Driver.TOPICS;
import static io.thinkstream.streams.Driver.problem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.Reward;
import io.thinkstream.schemas.SchemaHistory;
import io.thinkstream.streams.avro.GradedSample;
import io.thinkstream.streams.avro.JudgeGroup;
import io.thinkstream.streams.avro.PitSearch;
import io.thinkstream.streams.avro.SampleGroup;
import io.thinkstream.streams.avro.WaitingSample;
import io.thinkstream.streams.internal.StoreSchemas;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streams module's own records (stores, changelogs, repartition topics) evolve like the public
 * topics: every released version is kept, and records of the previous version read through the
 * production serdes — on a topic and into a store.
 */
class StoreSchemasTest {
  private static final Instant T = Instant.parse("2025-03-04T05:06:07.089Z");

  @TempDir Path state;

  @Test
  void everyCurrentStoreSchemaIsAReleasedVersion() {
    List<Long> released = StoreSchemas.released().stream().map(SchemaNormalization::parsingFingerprint64).toList();
    for (Schema current : List.of(GradedSample.getClassSchema(), SampleGroup.getClassSchema(),
        PitSearch.getClassSchema(), JudgeGroup.getClassSchema(), WaitingSample.getClassSchema())) {
      assertTrue(released.contains(SchemaNormalization.parsingFingerprint64(current)), current.getName()
          + "'s schema changed: add it to streams/src/main/resources/io/thinkstream/streams/history and index.txt");
    }
  }

  @Test
  void aSampleOfThePreviousVersionOnTheSamplesTopicIsVerified() throws Exception {
    Schema v1 = released(SchemaHistory.all(), "Sample", 1);
    GenericRecord old = new GenericRecordBuilder(v1)
        .set("sampleId", "s-old").set("problemId", "p").set("policyVersion", 1L).set("strategy", "<think1>")
        .set("prompt", "Q p\n<think1>").set("steps", List.of("2+2=<<2+2=4>>4")).set("answer", "#### 4")
        .set("sumLogProb", -1.0).set("seed", 1L).set("samplerId", "old")
        .set("timings", new GenericRecordBuilder(v1.getField("timings").schema()).set("queuedMs", 0L)
            .set("generateMs", 0L).set("promptTokens", 0).set("completionTokens", 0).build())
        .set("createdAt", T).build();
    try (Driver d = new Driver(RewardsConfig.of(Map.of()), state)) {
      d.input(TOPICS.problems()).pipeInput("p", problem("p", "4"));
      raw(d, TOPICS.samples().name()).pipeInput(bytes("p"), encode(v1, old));
      Reward r = d.output(TOPICS.rewards()).readValue();
      assertEquals("s-old", r.getSampleId());
      assertEquals(1.0, r.getValue());
      assertEquals(0, d.output(TOPICS.deadLetters()).getQueueSize());
    }
  }

  @Test
  void aGradedSampleOfThePreviousVersionOnTheRepartitionTopicStartsASearchInTheStore() throws Exception {
    Schema v1 = released(StoreSchemas.released(), "GradedSample", 1);
    GenericRecord old = gradedV1(v1);
    try (Driver d = new Driver(RewardsConfig.of(Map.of()), state)) {
      raw(d, "rewards-test-pit-by-sample-repartition").pipeInput(bytes("s-old"), encode(v1, old));
      ExploreRequest request = d.output(TOPICS.exploreRequests()).readValue();
      assertEquals("s-old", request.getSampleId());
      PitSearch search = d.driver.<String, PitSearch>getKeyValueStore(RewardsTopology.PIT_STORE).get("s-old");
      assertEquals("5", search.getSample().getGold());
    }
  }

  @Test
  void storeRecordsOfThePreviousVersionReadThroughTheStoreSerdes() throws Exception {
    Schema gradedV1 = released(StoreSchemas.released(), "GradedSample", 1);
    Schema pitV1 = released(StoreSchemas.released(), "PitSearch", 1);
    GenericRecord search = new GenericRecordBuilder(pitV1).set("sample", gradedV1(gradedV1)).set("lastStep", 2)
        .set("requested", 1).set("correctCounts", Map.of("1", 2)).set("shortestCorrect", Map.of("1", "#### 5")).build();
    PitSearch read = StoreSchemas.serde(PitSearch.class).decode(encode(pitV1, search));
    assertEquals("s-old", read.getSample().getSampleId());
    assertEquals(Map.of("1", 2), read.getCorrectCounts());
    assertEquals(0L, read.getStartedAtMs(), "the field added since takes its default");

    Schema groupV1 = released(StoreSchemas.released(), "SampleGroup", 1);
    SampleGroup group = StoreSchemas.serde(SampleGroup.class).decode(encode(groupV1,
        new GenericRecordBuilder(groupV1).set("problemId", "p").set("openedAtMs", 7L).set("size", 3).build()));
    assertEquals(3, group.getSize());
    assertEquals(-1L, group.getPolicyVersion());
    assertEquals("", group.getFirstSampleId());
    assertNull(StoreSchemas.serde(GradedSample.class).decode(encode(gradedV1, gradedV1(gradedV1))).getStrategy());
  }

  @Test
  void aGradedSampleAndASearchWrittenBeforeFollowUpsReadAsSingleTurn() throws Exception {
    Schema gradedV2 = released(StoreSchemas.released(), "GradedSample", 2);
    Schema pitV2 = released(StoreSchemas.released(), "PitSearch", 2);
    GenericRecord graded = gradedV1(gradedV2);
    assertEquals(List.of(), StoreSchemas.serde(GradedSample.class).decode(encode(gradedV2, graded)).getFollowUps());
    GenericRecord search = new GenericRecordBuilder(pitV2).set("sample", graded).set("lastStep", 2).set("requested", 1)
        .set("correctCounts", Map.of()).set("shortestCorrect", Map.of()).set("startedAtMs", 5L).build();
    PitSearch read = StoreSchemas.serde(PitSearch.class).decode(encode(pitV2, search));
    assertEquals("s-old", read.getSample().getSampleId());
    assertEquals(List.of(), read.getSample().getFollowUps());
  }

  private static GenericRecord gradedV1(Schema v1) {
    return new GenericRecordBuilder(v1).set("sampleId", "s-old").set("problemId", "p").set("policyVersion", 1L)
        .set("prompt", "Q p\n").set("steps", List.of("2+2=<<2+2=4>>4", "so 4")).set("answer", "#### 4")
        .set("correct", false).set("gold", "5").set("verdict", Map.of()).set("arrivedAtMs", 0L).build();
  }

  private static TestInputTopic<byte[], byte[]> raw(Driver d, String topic) {
    return d.driver.createInputTopic(topic, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Schema released(List<Schema> all, String name, int version) {
    return all.stream().filter(s -> s.getName().equals(name)).skip(version - 1).findFirst().orElseThrow();
  }

  private static byte[] encode(Schema schema, GenericRecord record) throws Exception {
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(model, schema).encode(record);
    byte[] out = new byte[buffer.remaining()];
    buffer.get(out);
    return out;
  }
}
