package io.thinkstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/** Problem records cross a schema change (a new optional field) in both directions. */
class SchemaEvolutionTest {
  private static final Instant T = Instant.parse("2025-03-04T05:06:07.089Z");
  private static final Schema CURRENT = Problem.getClassSchema();
  private static final Schema NEWER = withDifficulty(CURRENT);

  /** The current Problem schema plus {@code difficulty: ["null","int"] = null}, parsed from JSON. */
  private static Schema withDifficulty(Schema schema) {
    try {
      ObjectNode json = (ObjectNode) new ObjectMapper().readTree(schema.toString());
      ((ArrayNode) json.get("fields")).addObject()
          .put("name", "difficulty")
          .putNull("default")
          .putArray("type").add("null").add("int");
      return new Schema.Parser().parse(json.toString());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static GenericData model() {
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    return model;
  }

  private static Problem problem() {
    return Problem.newBuilder().setId("p1").setSource("synthetic").setQuestion("Mia has 3 coins.")
        .setGoldAnswer("3").setSolutions(List.of(new Solution("sequential", "#### 3")))
        .setTask("arithmetic").setMetadata(Map.of("seed", "1")).setCreatedAt(T).build();
  }

  @Test
  void theNewerSchemaHasADifferentFingerprint() {
    assertEquals(CURRENT.getFields().size() + 1, NEWER.getFields().size());
    assertNotEquals(SchemaNormalization.parsingFingerprint64(CURRENT), SchemaNormalization.parsingFingerprint64(NEWER));
  }

  @Test
  void aNewerReaderReadsRecordsOfTheCurrentSerde() throws IOException {
    byte[] bytes = AvroSerde.of(Problem.class).encode(problem());
    SchemaStore.Cache writers = new SchemaStore.Cache();
    writers.addSchema(CURRENT);

    GenericRecord read = new BinaryMessageDecoder<GenericRecord>(model(), NEWER, writers).decode(bytes);

    assertEquals("p1", read.get("id").toString());
    assertEquals("Mia has 3 coins.", read.get("question").toString());
    assertEquals("3", read.get("goldAnswer").toString());
    assertEquals("arithmetic", read.get("task").toString());
    assertEquals("{seed=1}", read.get("metadata").toString());
    GenericRecord solution = (GenericRecord) ((List<?>) read.get("solutions")).get(0);
    assertEquals("sequential", solution.get("style").toString());
    assertEquals(T, read.get("createdAt"));
    assertNull(read.get("difficulty"));
  }

  @Test
  void aNewerReaderWithoutTheWriterSchemaRefusesTheRecord() throws IOException {
    byte[] bytes = AvroSerde.of(Problem.class).encode(problem());
    var decoder = new BinaryMessageDecoder<GenericRecord>(model(), NEWER, new SchemaStore.Cache());
    assertThrows(MissingSchemaException.class, () -> decoder.decode(bytes));
  }

  @Test
  void theCurrentSerdeReadsNewerRecordsWhenGivenTheirSchema() throws IOException {
    byte[] bytes = newerRecord(7);
    SchemaStore.Cache newer = new SchemaStore.Cache();
    newer.addSchema(NEWER);

    Problem read = AvroSerde.of(Problem.class, newer).decode(bytes);

    assertEquals(problem(), read);
  }

  @Test
  void theCurrentSerdeRefusesNewerRecordsWithoutTheirSchema() throws IOException {
    byte[] bytes = newerRecord(7);
    SerializationException e = assertThrows(SerializationException.class,
        () -> AvroSerde.of(Problem.class).decode(bytes));
    assertTrue(e.getMessage().startsWith("cannot decode Problem"), e.getMessage());
    assertTrue(e.getMessage().contains(Long.toHexString(SchemaNormalization.parsingFingerprint64(NEWER))),
        e.getMessage());
  }

  @Test
  void aStoreDoesNotChangeHowCurrentRecordsAreRead() {
    SchemaStore.Cache newer = new SchemaStore.Cache();
    newer.addSchema(NEWER);
    AvroSerde<Problem> serde = AvroSerde.of(Problem.class, newer);
    assertEquals(problem(), serde.decode(AvroSerde.of(Problem.class).encode(problem())));
  }

  /** {@link #problem()} written by a producer that already has {@code difficulty}. */
  private static byte[] newerRecord(int difficulty) throws IOException {
    Problem p = problem();
    Schema solutionSchema = NEWER.getField("solutions").schema().getElementType();
    GenericRecord solution = new GenericRecordBuilder(solutionSchema)
        .set("style", "sequential").set("text", "#### 3").build();
    GenericRecord record = new GenericRecordBuilder(NEWER)
        .set("id", p.getId()).set("source", p.getSource()).set("question", p.getQuestion())
        .set("goldAnswer", p.getGoldAnswer()).set("solutions", List.of(solution)).set("task", p.getTask())
        .set("metadata", p.getMetadata()).set("createdAt", T).set("difficulty", difficulty)
        .build();
    ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(model(), NEWER).encode(record);
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }
}
