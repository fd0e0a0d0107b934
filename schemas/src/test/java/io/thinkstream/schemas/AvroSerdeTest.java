package io.thinkstream.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.Evaluation;
import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.ExploreResult;
import io.thinkstream.avro.Feedback;
import io.thinkstream.avro.OffsetRange;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.FollowUp;
import io.thinkstream.avro.JudgeItem;
import io.thinkstream.avro.JudgeRequest;
import io.thinkstream.avro.JudgeResult;
import io.thinkstream.avro.JudgeScore;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import io.thinkstream.avro.SampledTurn;
import io.thinkstream.avro.SftExample;
import io.thinkstream.avro.SftTurn;
import io.thinkstream.avro.Solution;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every value type of {@link Topics#DEFAULT} through its topic's serde, in Avro single-object encoding. */
class AvroSerdeTest {
  private static final Instant T = Instant.parse("2025-01-02T03:04:05.678Z");

  /** One record type: once with every optional field set, once with each left at its default. */
  record Case(String type, SpecificRecord full, SpecificRecord minimal) {
    @Override
    public String toString() {
      return type;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("Problem",
            Problem.newBuilder().setId("p1").setSource("synthetic").setQuestion("2+3?").setGoldAnswer("5")
                .setSolutions(List.of(new Solution("sequential", "2+3=<<2+3=5>>5\n#### 5")))
                .setTask("arithmetic").setMetadata(Map.of("seed", "7")).setCreatedAt(T)
                .setFollowUps(List.of(new FollowUp("Now add 2 to that.", "7"), new FollowUp("And double it.", null)))
                .build(),
            Problem.newBuilder().setId("p2").setSource("http").setQuestion("why?").setTask("production")
                .setCreatedAt(T).build()),
        new Case("Sample", sample().setStrategy("<think2>")
            .setFollowUps(List.of(new SampledTurn("Now add 2 to that.", List.of("5+2=<<5+2=7>>7"), "The answer is 7.",
                -0.5, 12, 8))).build(), sample().build()),
        new Case("ExploreRequest",
            ExploreRequest.newBuilder().setSampleId("s1").setProblemId("p1").setStepIndex(2)
                .setPrefix("q\nstep 1\nstep 2").setK(4).setPolicyVersion(3).build(),
            ExploreRequest.newBuilder().setSampleId("").setProblemId("").setStepIndex(0)
                .setPrefix("").setK(0).setPolicyVersion(0).build()),
        new Case("ExploreResult",
            ExploreResult.newBuilder().setSampleId("s1").setStepIndex(1)
                .setCompletions(List.of("a", "b\n#### 3")).setCorrectCount(1).build(),
            ExploreResult.newBuilder().setSampleId("s2").setStepIndex(0)
                .setCompletions(List.of()).setCorrectCount(0).build()),
        new Case("Reward",
            reward().setPitStep(3).setJudgeId("rule").setDetails(Map.of("why", "pit")).build(),
            reward().build()),
        new Case("PreferencePair",
            PreferencePair.newBuilder().setPairId("pp1").setProblemId("p1").setKind(PairKind.PIT)
                .setPrompt("q").setChosen("good").setRejected("bad").setPolicyVersion(2).setMargin(0.5)
                .setSourceSampleIds(List.of("s1", "s2")).setCreatedAt(T).build(),
            PreferencePair.newBuilder().setPairId("pp2").setProblemId("p2").setKind(PairKind.OUTCOME)
                .setPrompt("").setChosen("").setRejected("").setPolicyVersion(0).setMargin(0)
                .setSourceSampleIds(List.of()).setCreatedAt(T).build()),
        new Case("SftExample",
            sft().setStrategy("<think1>").setFollowUps(List.of(new SftTurn("Now add 2 to that.", "5+2=7\n#### 7")))
                .build(), sft().build()),
        new Case("Checkpoint",
            checkpoint().setParent(6L).setTrainMetrics(Map.of("loss", 0.25)).build(), checkpoint().build()),
        new Case("Evaluation",
            evaluation().setPerStrategyAccuracy(Map.of("<think1>", 0.75)).setSamplesPerProblem(16).setTemperature(1.0)
                .setPerStrategyMeanTokens(Map.of("<think1>", 42.5)).setCheckpointSha256("ab12").build(),
            evaluation().build()),
        new Case("Feedback",
            Feedback.newBuilder().setResponseId("r1").setProblemId("p1").setRating(-1).setComment("wrong")
                .setCreatedAt(T).build(),
            Feedback.newBuilder().setResponseId("r2").setRating(5).setCreatedAt(T).build()),
        new Case("DeadLetter",
            DeadLetter.newBuilder().setTopic("file:x.jsonl").setPartition(-1).setOffset(12).setError("not JSON")
                .setRaw(ByteBuffer.wrap(new byte[] {(byte) 0xC3, 0x28, 0, -1})).setCreatedAt(T).build(),
            DeadLetter.newBuilder().setTopic("problems").setPartition(0).setOffset(0).setError("")
                .setRaw(ByteBuffer.wrap(new byte[0])).setCreatedAt(T).build()),
        new Case("JudgeRequest",
            JudgeRequest.newBuilder().setGroupId("p1|1|s1").setProblemId("p1").setPolicyVersion(1).setPrompt("q")
                .setGold("5").setItems(List.of(new JudgeItem("s1", "It is 5."))).setCreatedAt(T).build(),
            JudgeRequest.newBuilder().setGroupId("").setProblemId("").setPolicyVersion(0).setPrompt("")
                .setItems(List.of()).setCreatedAt(T).build()),
        new Case("JudgeResult",
            JudgeResult.newBuilder().setGroupId("p1|1|s1").setJudgeId("http:m")
                .setScores(List.of(new JudgeScore("s1", 7.5, "slow", 2))).setCreatedAt(T).build(),
            JudgeResult.newBuilder().setGroupId("").setJudgeId("").setScores(List.of()).setCreatedAt(T).build()));
  }

  private static Sample.Builder sample() {
    return Sample.newBuilder().setSampleId("s1").setProblemId("p1").setPolicyVersion(3).setPrompt("q")
        .setSteps(List.of("step 1", "step 2")).setAnswer("#### 5").setSumLogProb(-12.5).setSeed(42)
        .setSamplerId("sampler-0").setTimings(new SampleTimings(10L, 20L, 30, 40)).setCreatedAt(T);
  }

  private static Reward.Builder reward() {
    return Reward.newBuilder().setSampleId("s1").setProblemId("p1").setKind(RewardKind.FIRST_PIT)
        .setValue(1.0).setCreatedAt(T);
  }

  private static SftExample.Builder sft() {
    return SftExample.newBuilder().setProblemId("p1").setSampleId("s1").setPrompt("q").setCompletion("a")
        .setPolicyVersion(1);
  }

  private static Checkpoint.Builder checkpoint() {
    return Checkpoint.newBuilder().setVersion(7).setUri("/ckpt/7").setSha256("ab".repeat(32))
        .setConsumedOffsets(List.of(new OffsetRange("preferences", 0, 0L, 100L))).setCreatedAt(T);
  }

  private static Evaluation.Builder evaluation() {
    return Evaluation.newBuilder().setVersion(7).setSuite("synthetic").setN(100).setK(8).setGreedyPass1(0.5)
        .setMajK(0.6).setPassK(0.9).setDiversity(2.5).setCreatedAt(T);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void roundTripsWithEveryOptionalFieldSet(Case c) {
    assertRoundTrip(c.full());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void roundTripsWithOptionalFieldsAtTheirDefaults(Case c) {
    assertRoundTrip(c.minimal());
  }

  /** Keeps the cases honest: "full" differs from every default, "minimal" equals each one. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void casesCoverTheOptionalFields(Case c) {
    for (Schema.Field field : c.full().getSchema().getFields()) {
      if (field.hasDefaultValue()) {
        Object defaultValue = SpecificData.get().getDefaultValue(field);
        assertNotEquals(defaultValue, c.full().get(field.pos()), c.type() + "." + field.name() + " in full");
        assertEquals(defaultValue, c.minimal().get(field.pos()), c.type() + "." + field.name() + " in minimal");
      }
    }
  }

  @Test
  void casesCoverEveryTopicValueType() {
    Set<String> topicTypes = Topics.DEFAULT.all().stream()
        .map(t -> ((AvroSerde<?>) t.value()).type().getSimpleName()).collect(Collectors.toSet());
    Set<String> tested = cases().map(Case::type).collect(Collectors.toSet());
    assertEquals(13, topicTypes.size());
    assertEquals(topicTypes, tested);
  }

  /** The serde's own encoder writes exactly what Avro's single-object encoder does, so any Avro client reads it. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void encodesByteForByteAsAvrosSingleObjectEncoder(Case c) throws IOException {
    for (SpecificRecord record : List.of(c.full(), c.minimal(), c.full())) {
      ByteBuffer avro = new BinaryMessageEncoder<SpecificRecord>(SpecificData.getForClass(record.getClass()),
          record.getSchema()).encode(record);
      byte[] expected = new byte[avro.remaining()];
      avro.get(expected);
      assertArrayEquals(expected, encode(record), c.type());
    }
  }

  @Test
  void nullsPassThroughAsTombstonesWhereTombstonesAreAllowed() {
    // no topic of the registry is compacted today; a serde for one passes tombstones through
    AvroSerde<Checkpoint> serde = AvroSerde.of(Checkpoint.class).withTombstones(true);
    assertNull(serde.serializer().serialize("compacted", null));
    assertNull(serde.deserializer().deserialize("compacted", null));
  }

  @Test
  void aTombstoneOnATopicThatIsNotCompactedIsRefusedWithThatReason() {
    SerializationException e = assertThrows(SerializationException.class,
        () -> Topics.DEFAULT.samples().value().deserializer().deserialize("samples", null));
    assertTrue(e.getMessage().contains("null value (a tombstone) on samples, which is not compacted"), e.getMessage());
  }

  @Test
  void bytesLeftOverAfterTheBodyAreRefused() {
    byte[] one = encode(problem());
    byte[] glued = Arrays.copyOf(one, one.length + 3);
    SerializationException e = assertThrows(SerializationException.class,
        () -> AvroSerde.of(Problem.class).decode(glued));
    assertTrue(e.getMessage().contains("3 bytes left over after the Avro body"), e.getMessage());
  }

  @Test
  void aHeaderOnlyRecordSaysNoBody() {
    byte[] header = Arrays.copyOf(encode(problem()), 10);
    SerializationException e = assertThrows(SerializationException.class,
        () -> AvroSerde.of(Problem.class).decode(header));
    assertTrue(e.getMessage().endsWith("no body after the 10-byte header"), e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everyProperPrefixOfAnEncodingIsRejected(Case c) {
    byte[] bytes = encode(c.full());
    for (int length = 0; length < bytes.length; length++) {
      byte[] truncated = Arrays.copyOf(bytes, length);
      assertDecodeFails(c.full().getClass(), truncated, "truncated to " + length + " of " + bytes.length);
    }
  }

  @Test
  void garbageIsRejectedWithTheTypeInTheMessage() {
    assertDecodeFails(Problem.class, "not avro at all".getBytes(), "text");
    assertDecodeFails(Problem.class, new byte[0], "empty");
    byte[] unknownFingerprint = encode(problem());
    unknownFingerprint[5] ^= 0x5A;
    assertDecodeFails(Problem.class, unknownFingerprint, "unknown fingerprint");
    byte[] otherType = encode(Feedback.newBuilder().setResponseId("r").setRating(1).setCreatedAt(T).build());
    assertDecodeFails(Problem.class, otherType, "a Feedback read as a Problem");
  }

  /** A corrupt body after a valid header either decodes or fails as a SerializationException, nothing else. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void corruptBodiesFailOnlyAsSerializationExceptions(Case c) {
    byte[] valid = encode(c.full());
    Random random = new Random(c.type().hashCode());
    for (int i = 0; i < 500; i++) {
      byte[] corrupt = Arrays.copyOf(valid, 10 + random.nextInt(2 * valid.length));
      for (int j = 10; j < corrupt.length; j++) {
        if (j >= valid.length || random.nextInt(4) == 0) {
          corrupt[j] = (byte) random.nextInt(256);
        }
      }
      try {
        topicFor(c.full().getClass()).value().deserializer().deserialize("t", corrupt);
      } catch (SerializationException e) {
        assertTrue(e.getMessage().contains(c.type()), e.getMessage());
      } catch (RuntimeException | OutOfMemoryError e) {
        fail(c.type() + ": corrupt body " + Arrays.toString(corrupt) + " threw " + e, e);
      }
    }
  }

  /** An 18-byte record claiming a 1.5 GB string must fail on the claim, not after allocating it. */
  @Test
  void aCorruptLengthIsRejectedBeforeAnythingIsAllocated() throws IOException {
    byte[] hugeString = withBody(encode(problem()), body -> body.writeLong(1_500_000_000L));
    SerializationException e = assertThrows(SerializationException.class,
        () -> AvroSerde.of(Problem.class).decode(hugeString));
    assertTrue(e.getMessage().contains("string length 1500000000 exceeds"), e.getMessage());

    ExploreResult result = ExploreResult.newBuilder().setSampleId("s").setStepIndex(0)
        .setCompletions(List.of()).setCorrectCount(0).build();
    byte[] hugeArray = withBody(encode(result), body -> {
      body.writeString("s");
      body.writeInt(0);
      body.writeArrayStart();
      body.setItemCount(1_000_000_000L);
    });
    e = assertThrows(SerializationException.class, () -> AvroSerde.of(ExploreResult.class).decode(hugeArray));
    assertTrue(e.getMessage().contains("array block count 1000000000 exceeds"), e.getMessage());
  }

  @Test
  void anUnencodableTimestampIsASerializationException() {
    Feedback feedback = Feedback.newBuilder().setResponseId("r").setRating(1).setCreatedAt(Instant.MAX).build();
    SerializationException e = assertThrows(SerializationException.class, () -> encode(feedback));
    assertTrue(e.getMessage().startsWith("cannot encode Feedback"), e.getMessage());
  }

  @Test
  void encodingARecordMissingARequiredFieldNamesTheType() {
    Problem incomplete = new Problem();
    SerializationException e = assertThrows(SerializationException.class, () -> encode(incomplete));
    assertTrue(e.getMessage().startsWith("cannot encode Problem"), e.getMessage());
  }

  private static Problem problem() {
    return (Problem) cases().findFirst().orElseThrow().full();
  }

  interface BodyWriter {
    void write(BinaryEncoder body) throws IOException;
  }

  /** The 10-byte header of {@code valid} followed by a hand-written body. */
  private static byte[] withBody(byte[] valid, BodyWriter writer) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(valid, 0, 10);
    BinaryEncoder body = EncoderFactory.get().directBinaryEncoder(out, null);
    writer.write(body);
    body.flush();
    return out.toByteArray();
  }

  private static void assertRoundTrip(SpecificRecord record) {
    Topic<String, SpecificRecord> topic = topicFor(record.getClass());
    byte[] bytes = topic.value().serializer().serialize(topic.name(), record);
    assertSingleObjectHeader(record.getSchema(), bytes);
    SpecificRecord decoded = topic.value().deserializer().deserialize(topic.name(), bytes);
    assertNotSame(record, decoded);
    assertEquals(record.getClass(), decoded.getClass());
    assertEquals(record, decoded);
    assertEquals(record.toString(), decoded.toString());
  }

  /** Avro single-object encoding: C3 01, then the schema's CRC-64-AVRO fingerprint, little-endian. */
  private static void assertSingleObjectHeader(Schema schema, byte[] bytes) {
    assertTrue(bytes.length > 10, "only " + bytes.length + " bytes");
    assertEquals((byte) 0xC3, bytes[0]);
    assertEquals((byte) 0x01, bytes[1]);
    byte[] fingerprint = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(SchemaNormalization.parsingFingerprint64(schema)).array();
    assertArrayEquals(fingerprint, Arrays.copyOfRange(bytes, 2, 10));
  }

  private static void assertDecodeFails(Class<?> type, byte[] bytes, String what) {
    Topic<String, SpecificRecord> topic = topicFor(type);
    SerializationException e = assertThrows(SerializationException.class,
        () -> topic.value().deserializer().deserialize(topic.name(), bytes), what);
    assertTrue(e.getMessage().contains(type.getSimpleName()), what + ": " + e.getMessage());
  }

  private static byte[] encode(SpecificRecord record) {
    Topic<String, SpecificRecord> topic = topicFor(record.getClass());
    return topic.value().serializer().serialize(topic.name(), record);
  }

  @SuppressWarnings("unchecked")
  private static Topic<String, SpecificRecord> topicFor(Class<?> type) {
    return (Topic<String, SpecificRecord>) Topics.DEFAULT.all().stream()
        .filter(t -> ((AvroSerde<?>) t.value()).type() == type)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no topic carries " + type.getSimpleName()));
  }
}
