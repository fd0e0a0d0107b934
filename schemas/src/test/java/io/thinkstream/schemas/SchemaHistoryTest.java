package io.thinkstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.FollowUp;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.SftExample;
import io.thinkstream.avro.SftTurn;
import io.thinkstream.avro.Solution;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/** Released schema versions are kept in the jar, and the production serdes read old records. */
class SchemaHistoryTest {
  private static final Instant T = Instant.parse("2025-03-04T05:06:07.089Z");

  @Test
  void everyCurrentSchemaIsAReleasedVersion() {
    for (Topic<String, ?> topic : Topics.DEFAULT.all()) {
      Class<?> type = ((AvroSerde<?>) topic.value()).type();
      Schema current = SpecificData.get().getSchema(type);
      assertTrue(SchemaHistory.contains(current), type.getSimpleName()
          + "'s schema changed: add it to schemas/src/main/resources/io/thinkstream/schemas/history and index.txt");
    }
  }

  @Test
  void aProblemWrittenBeforeFollowUpsReadsThroughTheTopicSerde() throws IOException {
    Schema v1 = released("Problem", 1);
    Schema solution = v1.getField("solutions").schema().getElementType();
    GenericRecord old = new GenericRecordBuilder(v1)
        .set("id", "p1").set("source", "synthetic").set("question", "Mia has 3 coins.").set("goldAnswer", "3")
        .set("solutions", List.of(new GenericRecordBuilder(solution).set("style", "sequential").set("text", "#### 3").build()))
        .set("task", "arithmetic").set("metadata", Map.of("seed", "1")).set("createdAt", T).build();
    byte[] bytes = encode(v1, old);

    Problem read = Topics.DEFAULT.problems().value().deserializer().deserialize("problems", bytes);

    assertEquals("p1", read.getId());
    assertEquals("3", read.getGoldAnswer());
    assertEquals(List.of(new Solution("sequential", "#### 3")), read.getSolutions());
    assertEquals(T, read.getCreatedAt());
    assertEquals(List.of(), read.getFollowUps());
  }

  @Test
  void aReaderOfThePreviousVersionReadsAMultiTurnProblem() throws IOException {
    Problem p = Problem.newBuilder().setId("p2").setSource("synthetic").setQuestion("Mia has 3 coins.")
        .setGoldAnswer("3").setTask("arithmetic").setCreatedAt(T)
        .setFollowUps(List.of(new FollowUp("Now add 4 to that.", "7"))).build();
    byte[] bytes = Topics.DEFAULT.problems().value().serializer().serialize("problems", p);
    SchemaStore.Cache writers = new SchemaStore.Cache();
    writers.addSchema(Problem.getClassSchema());

    GenericRecord read = new BinaryMessageDecoder<GenericRecord>(model(), released("Problem", 1), writers).decode(bytes);

    assertEquals("p2", read.get("id").toString());
    assertEquals("Mia has 3 coins.", read.get("question").toString());
    assertEquals("3", read.get("goldAnswer").toString());
    assertNull(read.getSchema().getField("followUps"));
  }

  @Test
  void aSampleWrittenBeforeFollowUpsReadsThroughTheTopicSerde() throws IOException {
    Schema v1 = released("Sample", 1);
    Schema timings = v1.getField("timings").schema();
    GenericRecord old = new GenericRecordBuilder(v1)
        .set("sampleId", "s-1").set("problemId", "p1").set("policyVersion", 2L).set("strategy", "<think1>")
        .set("prompt", "Q\n<think1>").set("steps", List.of("a")).set("answer", "#### 1").set("sumLogProb", -1.5)
        .set("seed", 9L).set("samplerId", "sampler-0")
        .set("timings", new GenericRecordBuilder(timings).set("queuedMs", 1L).set("generateMs", 2L)
            .set("promptTokens", 3).set("completionTokens", 4).build())
        .set("createdAt", T).build();

    var read = Topics.DEFAULT.samples().value().deserializer().deserialize("samples", encode(v1, old));

    assertEquals("s-1", read.getSampleId());
    assertEquals(List.of("a"), read.getSteps());
    assertEquals(List.of(), read.getFollowUps());
  }

  @Test
  void anSftExampleWrittenBeforeFollowUpsReadsThroughTheTopicSerde() throws IOException {
    Schema v1 = released("SftExample", 1);
    GenericRecord old = new GenericRecordBuilder(v1)
        .set("problemId", "p1").set("sampleId", "s-1").set("prompt", "Mia has 3 coins.\n<think1>")
        .set("completion", "#### 3").set("strategy", "<think1>").set("policyVersion", 4L).build();

    SftExample read = Topics.DEFAULT.sftExamples().value().deserializer().deserialize("sft-examples", encode(v1, old));

    assertEquals("s-1", read.getSampleId());
    assertEquals("#### 3", read.getCompletion());
    assertEquals(4L, read.getPolicyVersion());
    assertEquals(List.of(), read.getFollowUps());
  }

  @Test
  void aReaderOfThePreviousVersionReadsAMultiTurnSftExample() throws IOException {
    SftExample e = SftExample.newBuilder().setProblemId("p2").setSampleId("s-2").setPrompt("Mia has 3 coins.\n")
        .setCompletion("#### 3").setStrategy(null).setPolicyVersion(1)
        .setFollowUps(List.of(new SftTurn("Now add 4 to that.", "3+4=7\n#### 7"))).build();
    byte[] bytes = Topics.DEFAULT.sftExamples().value().serializer().serialize("sft-examples", e);
    SchemaStore.Cache writers = new SchemaStore.Cache();
    writers.addSchema(SftExample.getClassSchema());

    GenericRecord read = new BinaryMessageDecoder<GenericRecord>(model(), released("SftExample", 1), writers).decode(bytes);

    assertEquals("s-2", read.get("sampleId").toString());
    assertEquals("#### 3", read.get("completion").toString());
    assertEquals(1L, read.get("policyVersion"));
    assertNull(read.getSchema().getField("followUps"));
  }

  @Test
  void anEvaluationWrittenBeforeSamplesAndLengthsReadsWithDefaults() throws IOException {
    Schema v1 = released("Evaluation", 1);
    GenericRecord old = new GenericRecordBuilder(v1)
        .set("version", 3L).set("suite", "synthetic").set("n", 10).set("k", 4).set("greedyPass1", 0.5)
        .set("majK", 0.6).set("passK", 0.7).set("perStrategyAccuracy", Map.of("<think1>", 0.4))
        .set("diversity", 1.5).set("createdAt", T).build();

    var read = Topics.DEFAULT.evaluations().value().deserializer().deserialize("evaluations", encode(v1, old));

    assertEquals(3L, read.getVersion());
    assertEquals(0.7, read.getPassK());
    assertEquals(0, read.getSamplesPerProblem());
    assertEquals(Map.of(), read.getPerStrategyMeanTokens());
    assertNull(read.getCheckpointSha256());
  }

  private static Schema released(String name, int version) {
    return SchemaHistory.all().stream()
        .filter(s -> s.getName().equals(name))
        .skip(version - 1)
        .findFirst()
        .orElseThrow();
  }

  private static GenericData model() {
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    return model;
  }

  private static byte[] encode(Schema schema, GenericRecord record) throws IOException {
    ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(model(), schema).encode(record);
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }
}
