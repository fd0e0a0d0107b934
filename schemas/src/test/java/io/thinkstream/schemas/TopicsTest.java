package io.thinkstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.Problem;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {
  /** ARCHITECTURE.md, "Topics", in its order. */
  private static final List<String> NAMES = List.of("problems", "samples", "explore-requests", "explore-results",
      "rewards", "preferences", "sft-examples", "checkpoints", "evaluations", "feedback", "dead-letters",
      "judge-requests", "judge-results");

  private static List<String> names(Topics topics) {
    return topics.all().stream().map(Topic::name).toList();
  }

  @Test
  void thirteenTopicsNamedAsInTheArchitecture() {
    assertEquals(NAMES, names(Topics.DEFAULT));
  }

  @Test
  void accessorsMatchTheirNames() {
    Topics t = Topics.DEFAULT;
    assertEquals(List.of(t.problems(), t.samples(), t.exploreRequests(), t.exploreResults(), t.rewards(),
        t.preferences(), t.sftExamples(), t.checkpoints(), t.evaluations(), t.feedback(), t.deadLetters(),
        t.judgeRequests(), t.judgeResults()), t.all());
    assertEquals(Problem.class, ((AvroSerde<?>) t.problems().value()).type());
    assertEquals(Checkpoint.class, ((AvroSerde<?>) t.checkpoints().value()).type());
  }

  @Test
  void keysAreStrings() {
    for (Topic<String, ?> topic : Topics.DEFAULT.all()) {
      byte[] key = topic.key().serializer().serialize(topic.name(), "p-1");
      assertEquals("p-1", topic.key().deserializer().deserialize(topic.name(), key));
    }
  }

  /** A lagging evaluator must see every version: checkpoints are never compacted away. */
  @Test
  void checkpointsKeepEveryVersion() {
    assertEquals("delete", Topics.DEFAULT.checkpoints().config().get("cleanup.policy"));
    assertEquals("-1", Topics.DEFAULT.checkpoints().config().get("retention.ms"));
    assertEquals("7", Topics.checkpointKey(7));
  }

  @Test
  void experimentTopicsAreRetainedForever() {
    for (Topic<String, ?> topic : Topics.DEFAULT.all()) {
      if (topic.name().equals("dead-letters") || topic.name().startsWith("judge-")) {
        continue;
      }
      assertEquals("delete", topic.config().get("cleanup.policy"), topic.name());
      assertEquals("-1", topic.config().get("retention.ms"), topic.name());
      assertEquals("-1", topic.config().get("retention.bytes"), topic.name());
    }
  }

  @Test
  void deadLettersAreKeptThirtyDays() {
    Map<String, String> config = Topics.DEFAULT.deadLetters().config();
    assertEquals("delete", config.get("cleanup.policy"));
    assertEquals(String.valueOf(30L * 24 * 60 * 60 * 1000), config.get("retention.ms"));
  }

  @Test
  void configsAreImmutable() {
    assertThrows(UnsupportedOperationException.class, () -> Topics.DEFAULT.problems().config().put("x", "y"));
  }

  @Test
  void thePrefixNamespacesEveryTopic() {
    Topics topics = Topics.withPrefix("exp1.");
    assertEquals(NAMES.stream().map(n -> "exp1." + n).toList(), names(topics));
    assertEquals(Topics.DEFAULT.checkpoints().config(), topics.checkpoints().config());
  }

  @Test
  void byNameFindsPrefixedTopicsOnly() {
    Topics topics = Topics.withPrefix("t-42_");
    assertEquals(Optional.of(topics.rewards()), topics.byName("t-42_rewards"));
    assertEquals(Optional.empty(), topics.byName("rewards"));
    assertEquals(Optional.empty(), Topics.DEFAULT.byName("nope"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"exp 1.", "exp/1", "a:b", "ü.", "exp1.\n"})
  void invalidPrefixesAreRejectedWithTheValue(String prefix) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Topics.withPrefix(prefix));
    assertTrue(e.getMessage().contains("'" + prefix + "'"), e.getMessage());
  }

  @Test
  void aNullPrefixIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> Topics.withPrefix(null));
  }

  /** Kafka refuses names over 249 characters, so a prefix that makes one is refused up front. */
  @Test
  void everyNameIsALegalKafkaTopicName() {
    String longest = "p".repeat(249 - "explore-requests".length());
    for (Topic<String, ?> topic : Topics.withPrefix(longest).all()) {
      org.apache.kafka.common.internals.Topic.validate(topic.name());
    }
    assertThrows(InvalidTopicException.class,
        () -> org.apache.kafka.common.internals.Topic.validate("p".repeat(250)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Topics.withPrefix(longest + "p"));
    assertTrue(e.getMessage().contains("234"), e.getMessage());
  }
}
