package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.app.EmbeddedBroker;
import io.thinkstream.avro.DeadLetter;
import io.thinkstream.avro.Problem;
import io.thinkstream.schemas.SharedData;
import io.thinkstream.schemas.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands of the README's quickstart against a real in-process broker: topics, produce
 * (synthetic and JSONL), tail, and a non-Java client (kcat) reading what was produced.
 * Each test uses its own topic prefix.
 */
class CliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static EmbeddedBroker broker;

  @TempDir static Path dataDir;
  @TempDir Path work;

  @BeforeAll
  static void startBroker() throws IOException {
    broker = EmbeddedBroker.start("localhost", 0, dataDir);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  private static Cli run(String prefix, String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--bootstrap";
    all[args.length + 1] = broker.bootstrap();
    all[args.length + 2] = "--set";
    all[args.length + 3] = "topic.prefix=" + prefix;
    return Cli.run(all);
  }

  @Test
  void topicsCreateIsIdempotent() {
    Cli first = run("idem.", "topics", "create");
    assertEquals(0, first.exitCode(), first.toString());
    assertEquals(13, first.outLines().stream().filter(l -> l.startsWith("created")).count(), first.toString());
    Cli second = run("idem.", "topics", "create");
    assertEquals(0, second.exitCode(), second.toString());
    assertEquals(13, second.outLines().stream().filter(l -> l.startsWith("exists")).count(), second.toString());
  }

  @Test
  void synthetic200AreOnTheTopicAndTailPrintsThem() throws Exception {
    assertEquals(0, run("syn.", "topics", "create").exitCode());
    Cli produce = run("syn.", "produce", "--source", "synthetic", "--count", "200", "--seed", "7");
    assertEquals(0, produce.exitCode(), produce.toString());
    assertEquals(200, JSON.readTree(produce.outLines().get(0)).get("produced").asLong(), produce.toString());

    List<RoundTrip.Keyed<Problem>> records = RoundTrip.readAll(broker.bootstrap(), Topics.withPrefix("syn.").problems());
    assertEquals(200, records.size());
    assertEquals(200, records.stream().map(r -> r.value().getId()).distinct().count());

    Cli tail = run("syn.", "tail", "problems", "--from-beginning", "--max", "200");
    assertEquals(0, tail.exitCode(), tail.err());
    assertEquals(200, tail.outLines().size());
    HashSet<String> ids = new HashSet<>();
    for (String line : tail.outLines()) {
      JsonNode node = JSON.readTree(line);
      assertTrue(node.get("question").asText().endsWith("?"), line);
      assertTrue(node.get("solutions").get(0).get("text").asText().contains("#### "), line);
      ids.add(node.get("id").asText());
    }
    assertEquals(200, ids.size());
    assertTrue(ids.contains("syn-7-0") && ids.contains("syn-7-199"), ids.toString());
  }

  @Test
  void kcatReadsTheProblemsTopic() throws Exception {
    Path kcatPath = OutsideTool.require("kcat", "apt-get install -y kcat");
    assertEquals(0, run("kcat.", "topics", "create").exitCode());
    assertEquals(0, run("kcat.", "produce", "--source", "synthetic", "--count", "50", "--seed", "3").exitCode());
    Process kcat = new ProcessBuilder(kcatPath.toString(), "-b", broker.bootstrap(), "-C", "-t", "kcat.problems", "-e", "-q",
        "-f", "%k %S\\n").redirectErrorStream(true).start();
    assertTrue(kcat.waitFor(60, TimeUnit.SECONDS), "kcat did not finish");
    List<String> lines = new String(kcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    assertEquals(0, kcat.exitValue(), String.join("\n", lines));
    assertEquals(50, lines.size(), String.join("\n", lines));
    for (String line : lines) {
      String[] keyAndSize = line.split(" ");
      assertTrue(keyAndSize[0].startsWith("syn-3-"), line);
      assertTrue(Integer.parseInt(keyAndSize[1]) > 10, line);
    }
  }

  @Test
  void jsonlGoodLinesAreProducedAndBadLinesGoToDeadLetters() throws Exception {
    assertEquals(0, run("mixed.", "topics", "create").exitCode());
    Path file = work.resolve("mixed.jsonl");
    try (var out = Files.newOutputStream(file)) {
      out.write("{\"question\":\"What is 2+3?\",\"answer\":\"2+3=<<2+3=5>>5\\n#### 5\"}\n".getBytes(StandardCharsets.UTF_8));
      out.write("this is not json\n".getBytes(StandardCharsets.UTF_8));
      out.write("{\"answer\":\"#### 1\"}\n".getBytes(StandardCharsets.UTF_8));
      out.write("{\"question\":\"  \",\"answer\":\"#### 1\"}\n".getBytes(StandardCharsets.UTF_8));
      out.write(new byte[] {'{', '"', 'q', (byte) 0xC3, 0x28, '"', '}', '\n'});
      out.write("{\"question\":\"What is 4*5?\",\"answer\":\"#### 20\"}\n".getBytes(StandardCharsets.UTF_8));
    }
    Cli produce = run("mixed.", "produce", "--source", "jsonl", "--file", file.toString());
    assertEquals(0, produce.exitCode(), produce.toString());
    JsonNode summary = JSON.readTree(produce.outLines().get(0));
    assertEquals(2, summary.get("produced").asLong());
    assertEquals(4, summary.get("rejected").asLong());
    assertTrue(produce.err().contains("line 2: not JSON"), produce.err());

    Topics topics = Topics.withPrefix("mixed.");
    List<String> ids = RoundTrip.readAll(broker.bootstrap(), topics.problems()).stream()
        .map(r -> r.value().getId().replaceAll("-[0-9a-f]{8}$", "")).sorted().toList(); // ids end in a hash of the line
    assertEquals(List.of("mixed-1", "mixed-6"), ids);
    List<DeadLetter> letters = RoundTrip.readAll(broker.bootstrap(), topics.deadLetters()).stream()
        .map(RoundTrip.Keyed::value).sorted((a, b) -> Long.compare(a.getOffset(), b.getOffset())).toList();
    assertEquals(List.of(2L, 3L, 4L, 5L), letters.stream().map(DeadLetter::getOffset).toList());
    assertTrue(letters.get(0).getError().startsWith("not JSON"), letters.get(0).getError());
    assertEquals("missing field 'question'", letters.get(1).getError());
    assertEquals("empty question", letters.get(2).getError());
    assertEquals("not valid UTF-8", letters.get(3).getError());
    assertEquals("this is not json", StandardCharsets.UTF_8.decode(letters.get(0).getRaw()).toString());
    letters.forEach(l -> assertEquals("file:" + file, l.getTopic()));
  }

  @Test
  void aFileWithNothingGoodExitsNonZero() throws Exception {
    assertEquals(0, run("bad.", "topics", "create").exitCode());
    Path file = work.resolve("bad.jsonl");
    Files.writeString(file, "nope\n[1,2]\n");
    Cli produce = run("bad.", "produce", "--source", "jsonl", "--file", file.toString());
    assertNotEquals(0, produce.exitCode(), produce.toString());
    assertEquals(2, RoundTrip.readAll(broker.bootstrap(), Topics.withPrefix("bad.").deadLetters()).size());
  }

  @Test
  void allOfGsm8kTestProducesCleanly() throws Exception {
    Path gsm8k = SharedData.gsm8k("test.jsonl");
    assertEquals(0, run("gsm.", "topics", "create").exitCode());
    Cli produce = run("gsm.", "produce", "--source", "jsonl", "--file", gsm8k.toString());
    assertEquals(0, produce.exitCode(), produce.toString());
    JsonNode summary = JSON.readTree(produce.outLines().get(0));
    assertEquals(1319, summary.get("produced").asLong(), produce.toString());
    assertEquals(0, summary.get("rejected").asLong(), produce.toString());
    assertEquals(1319, RoundTrip.readAll(broker.bootstrap(), Topics.withPrefix("gsm.").problems()).size());
    assertEquals(0, RoundTrip.readAll(broker.bootstrap(), Topics.withPrefix("gsm.").deadLetters()).size());
  }

  @Test
  void topicsCreateReportsAndRewardsRefusesProblemsAndSamplesThatAreNotCoPartitioned() throws Exception {
    Topics topics = Topics.withPrefix("cop.");
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
        RoundTrip.client(broker.bootstrap()))) {
      admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topics.problems().name(), 2, (short) 1),
          new org.apache.kafka.clients.admin.NewTopic(topics.samples().name(), 3, (short) 1))).all().get();
    }
    Cli create = run("cop.", "topics", "create");
    assertEquals(1, create.exitCode(), create.toString());
    assertTrue(create.err().contains("partition counts differ {cop.problems=2, cop.samples=3"), create.err());
    Cli rewards = run("cop.", "rewards");
    assertEquals(1, rewards.exitCode(), rewards.toString());
    assertTrue(rewards.err().contains("refusing to start: partition counts differ"), rewards.err());
  }

  @Test
  void produceBeforeTopicsExistSaysWhatToDo() {
    Cli produce = run("none.", "produce", "--source", "synthetic", "--count", "1");
    assertEquals(1, produce.exitCode(), produce.toString());
    assertTrue(produce.err().contains("run 'thinkstream topics create' first"), produce.err());
  }

  @Test
  void unknownConfigKeysFail() throws Exception {
    Path config = work.resolve("bad.properties");
    Files.writeString(config, "bootstrap.servers=localhost:1\ntopic.partitons=4\n");
    Cli cli = Cli.run("topics", "create", "--config", config.toString());
    assertEquals(1, cli.exitCode(), cli.toString());
    assertTrue(cli.err().contains("unknown config key [topic.partitons]"), cli.err());
  }
}
