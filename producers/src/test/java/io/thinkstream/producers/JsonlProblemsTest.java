package io.thinkstream.producers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.schemas.SharedData;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import io.thinkstream.producers.ProblemSource.Item;
import io.thinkstream.schemas.SharedData;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.schemas.gsm8k.Numbers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlProblemsTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);
  private static final int MAX_LINE_BYTES = 200;

  @TempDir
  Path dir;

  /** A rejected line as the test expects it: its number and a part of its reason. */
  record Rejection(long line, String reason) {}

  /** Builds a file line by line from text or raw bytes, with LF or CRLF endings. */
  static final class FileText {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    FileText line(String text) {
      return raw(text.getBytes(StandardCharsets.UTF_8), "\n");
    }

    FileText crlf(String text) {
      return raw(text.getBytes(StandardCharsets.UTF_8), "\r\n");
    }

    FileText raw(byte[] line, String ending) {
      bytes.writeBytes(line);
      bytes.writeBytes(ending.getBytes(StandardCharsets.US_ASCII));
      return this;
    }

    Path write(Path file) throws IOException {
      return Files.write(file, bytes.toByteArray());
    }
  }

  private static List<Item> read(Path file) throws IOException {
    try (Stream<Item> items = new JsonlProblems(file, MAX_LINE_BYTES, CLOCK).items()) {
      return items.toList();
    }
  }

  private static List<Problem> good(List<Item> items) {
    return items.stream().filter(Item.Good.class::isInstance).map(i -> ((Item.Good) i).problem()).toList();
  }

  private static List<Item.Rejected> rejected(List<Item> items) {
    return items.stream().filter(Item.Rejected.class::isInstance).map(Item.Rejected.class::cast).toList();
  }

  private static void assertRejections(List<Rejection> expected, List<Item.Rejected> actual) {
    assertEquals(expected.stream().map(Rejection::line).toList(), actual.stream().map(Item.Rejected::position).toList());
    for (int i = 0; i < expected.size(); i++) {
      assertTrue(actual.get(i).reason().contains(expected.get(i).reason()),
          "line " + expected.get(i).line() + ": '" + actual.get(i).reason() + "' lacks '" + expected.get(i).reason() + "'");
    }
  }

  private static String row(String question, String answer) {
    return "{\"question\": \"" + question + "\", \"answer\": \"" + answer + "\"}";
  }

  @Test
  void goodLinesPassAndEachBadLineIsRejectedAloneWithItsReason() throws IOException {
    ByteArrayOutputStream badUtf8 = new ByteArrayOutputStream();
    badUtf8.writeBytes("{\"question\": \"caf".getBytes(StandardCharsets.UTF_8));
    badUtf8.writeBytes(new byte[] {(byte) 0xC3, 0x28});
    badUtf8.writeBytes("\", \"answer\": \"#### 1\"}".getBytes(StandardCharsets.UTF_8));
    String oversize = row("x".repeat(300), "#### 1");
    Path file = new FileText()
        .line(row("Q1?", "A <<1+1=2>>2\\n#### 2"))                // 1 good
        .line("")                                                 // 2 blank
        .line("{\"question\": \"x\", ")                           // 3
        .line("[\"question\", \"answer\"]")                       // 4
        .line("{\"answer\": \"#### 1\"}")                         // 5
        .crlf(row("  Q6?  ", "so\\n#### 1,000"))                  // 6 good, CRLF
        .line("{\"question\": \"q\"}")                            // 7
        .line(row("   ", "#### 1"))                               // 8
        .line("{\"question\": 42, \"answer\": \"#### 1\"}")       // 9
        .line(row("q", "it is 5"))                                // 10
        .raw(badUtf8.toByteArray(), "\n")                         // 11
        .crlf(" \t ")                                             // 12 blank
        .line(oversize)                                           // 13
        .line("{\"question\": null, \"answer\": \"#### 1\"}")     // 14
        .line(row("q", "#### "))                                  // 15
        .line("null")                                             // 16
        .line(row("q", "#### 1") + " {\"question\": \"q2\"}")     // 17
        .crlf(row("Q18?", "#### 18"))                             // 18 good
        .write(dir.resolve("mixed.jsonl"));
    Files.write(file, row("Q19?", "#### 19").getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);                               // 19 good, no final newline

    List<Item> items = read(file);

    assertEquals(List.of("mixed-1", "mixed-6", "mixed-18", "mixed-19"), good(items).stream().map(JsonlProblemsTest::idWithoutHash).toList());
    assertEquals(List.of("2", "1000", "18", "19"), good(items).stream().map(Problem::getGoldAnswer).toList());
    assertEquals("Q6?", good(items).get(1).getQuestion());
    assertRejections(List.of(
        new Rejection(3, "not JSON"),
        new Rejection(4, "not a JSON object"),
        new Rejection(5, "missing field 'question'"),
        new Rejection(7, "missing field 'answer'"),
        new Rejection(8, "empty question"),
        new Rejection(9, "field 'question' must be a string, got NUMBER"),
        new Rejection(10, "no final line '#### <answer>'"),
        new Rejection(11, "not valid UTF-8"),
        new Rejection(13, "longer than the limit of 200 bytes"),
        new Rejection(14, "missing field 'question'"),
        new Rejection(15, "no final line '#### <answer>'"),
        new Rejection(16, "not a JSON object"),
        new Rejection(17, "not JSON")), rejected(items));
    assertTrue(rejected(items).stream().allMatch(r -> r.origin().equals("file:" + file)));

    Item.Rejected tooLong = rejected(items).get(8);
    assertArrayEquals(Arrays.copyOf(oversize.getBytes(StandardCharsets.UTF_8), MAX_LINE_BYTES), tooLong.raw());
    Item.Rejected invalid = rejected(items).get(7);
    assertArrayEquals(badUtf8.toByteArray(), invalid.raw());
    assertArrayEquals("[\"question\", \"answer\"]".getBytes(StandardCharsets.UTF_8), rejected(items).get(1).raw());
  }

  @Test
  void aGoodLineBecomesAFullProblem() throws IOException {
    Path file = new FileText().line(row(" How many? ", "2+2=<<2+2=4>>4\\n#### 4")).write(dir.resolve("tiny.jsonl"));
    Problem p = good(read(file)).get(0);
    assertTrue(p.getId().matches("tiny-1-[0-9a-f]{8}"), p.getId());
    assertEquals(Problem.newBuilder().setId(p.getId()).setSource("jsonl:" + file).setQuestion("How many?")
        .setGoldAnswer("4").setSolutions(List.of(new Solution("reference", "2+2=<<2+2=4>>4\n#### 4")))
        .setTask("gsm8k").setMetadata(Map.of("file", "tiny.jsonl", "line", "1")).setCreatedAt(CLOCK.instant())
        .build(), p);
  }

  /** The limit counts a line's content; its line ending, LF or CRLF, is not part of it. */
  @Test
  void theLimitIsOnContentWhateverTheLineEnding() throws IOException {
    String prefix = "{\"question\": \"";
    String suffix = "\", \"answer\": \"#### 1\"}";
    String exact = prefix + "x".repeat(MAX_LINE_BYTES - prefix.length() - suffix.length()) + suffix;
    String over = prefix + "x".repeat(MAX_LINE_BYTES + 1 - prefix.length() - suffix.length()) + suffix;
    assertEquals(MAX_LINE_BYTES, exact.length());
    Path file = new FileText().line(exact).crlf(exact).line(over).crlf(over).write(dir.resolve("limit.jsonl"));

    List<Item> items = read(file);

    assertEquals(List.of("limit-1", "limit-2"), good(items).stream().map(JsonlProblemsTest::idWithoutHash).toList());
    assertRejections(List.of(new Rejection(3, "longer than the limit"), new Rejection(4, "longer than the limit")),
        rejected(items));
    assertEquals(MAX_LINE_BYTES, rejected(items).get(1).raw().length);
  }

  @Test
  void aByteOrderMarkStartingTheFileIsIgnored() throws IOException {
    Path file = new FileText().line("\uFEFF" + row("Q1?", "#### 1")).line("\uFEFF" + row("Q2?", "#### 2"))
        .write(dir.resolve("bom.jsonl"));
    List<Item> items = read(file);
    assertEquals(List.of("Q1?"), good(items).stream().map(Problem::getQuestion).toList());
    assertRejections(List.of(new Rejection(2, "not JSON")), rejected(items));
  }

  @Test
  void anEmptyFileHasNoItems() throws IOException {
    assertEquals(List.of(), read(Files.write(dir.resolve("empty.jsonl"), new byte[0])));
    assertEquals(List.of(), read(Files.writeString(dir.resolve("blank.jsonl"), "\n\r\n  \n")));
  }

  @Test
  void aMissingFileIsAnIOExceptionNamingIt() {
    Path missing = dir.resolve("nope.jsonl");
    IOException e = assertThrows(IOException.class, () -> read(missing));
    assertTrue(e.getMessage().contains("nope.jsonl"), e.getMessage());
  }

  @Test
  void aTinyLimitIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new JsonlProblems(dir.resolve("x.jsonl"), 15, CLOCK));
    assertTrue(e.getMessage().contains("15"), e.getMessage());
  }

  @Test
  void everyRowOfTheGsm8kTestSetIsAGoodProblem() throws IOException {
    Path file = gsm8kTestFile();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertEquals(1319, lines.size());

    List<Item> items;
    try (Stream<Item> stream = new JsonlProblems(file, 1 << 20, CLOCK).items()) {
      items = stream.toList();
    }

    assertEquals(List.of(), rejected(items));
    List<Problem> problems = good(items);
    assertEquals(1319, problems.size());
    ObjectMapper json = new ObjectMapper();
    for (int i = 0; i < problems.size(); i++) {
      Problem p = problems.get(i);
      JsonNode row = json.readTree(lines.get(i));
      String answer = row.get("answer").asText();
      String afterHashes = answer.substring(answer.lastIndexOf("####") + 4).strip();
      assertEquals("test-" + (i + 1), idWithoutHash(p));
      assertEquals(row.get("question").asText().strip(), p.getQuestion());
      assertEquals(afterHashes.replace(",", ""), p.getGoldAnswer(), p.getId());
      assertEquals(answer, p.getSolutions().get(0).getText(), p.getId());
    }
  }

  /** The reference solutions' final answers are numbers equal to gold; sloppy annotations are only counted. */
  @Test
  void theGsm8kReferenceSolutionsCheck() throws IOException {
    int annotations = 0;
    int annotationsOk = 0;
    try (Stream<Item> stream = new JsonlProblems(gsm8kTestFile(), 1 << 20, CLOCK).items()) {
      for (Problem p : good(stream.toList())) {
        String text = p.getSolutions().get(0).getText();
        Gsm8kSolution solution = Gsm8kSolution.parse(text);
        Gsm8kSolution.Check check = solution.check(Optional.of(p.getGoldAnswer()));
        assertTrue(check.finalAnswerOk(), p.getId() + ": " + check.errors());
        assertTrue(Numbers.parse(solution.finalAnswer().orElseThrow()).isPresent(),
            p.getId());
        annotations += check.annotations();
        annotationsOk += check.annotationsOk();
        if (check.annotationsOk() < check.annotations()) {
          System.out.println(p.getId() + ": " + check.errors());
        }
      }
    }
    System.out.printf("GSM8K test: %d of %d calculator annotations fail arithmetic%n",
        annotations - annotationsOk, annotations);
    assertTrue(annotations > 4000, annotations + " annotations");
  }

  static Path gsm8kTestFile() {
    return SharedData.gsm8k("test.jsonl");
  }

  private static String idWithoutHash(Problem p) {
    return p.getId().replaceAll("-[0-9a-f]{8}$", "");
  }

  @Test
  void filesThatShareANameGetDistinctIdsAndAReplayTheSameOnes() throws IOException {
    Files.createDirectories(dir.resolve("a"));
    Files.createDirectories(dir.resolve("b"));
    Path a = new FileText().line(row("Q a?", "#### 1")).write(dir.resolve("a").resolve("train.jsonl"));
    Path b = new FileText().line(row("Q b?", "#### 2")).write(dir.resolve("b").resolve("train.jsonl"));
    String idA = good(read(a)).get(0).getId();
    assertTrue(!idA.equals(good(read(b)).get(0).getId()), idA);
    assertEquals(idA, good(read(a)).get(0).getId());
  }

  @Test
  void aFinalAnswerThatIsNotANumberIsRejectedSayingSo() throws IOException {
    Path file = new FileText().line(row("Q?", "#### seven")).line(row("Q2?", "#### 7")).write(dir.resolve("words.jsonl"));
    List<Item> items = read(file);
    assertEquals(1, good(items).size());
    assertRejections(List.of(new Rejection(1, "final answer 'seven' is not a number")), rejected(items));
  }
}
