package io.thinkstream.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.tasks.SyntheticProblems.Op;
import io.thinkstream.tasks.SyntheticProblems.Settings;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.provider.CsvSource;

class SyntheticProblemsTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);
  private static final Set<String> STYLES = Set.of("sequential", "grouped", "net");
  private static final Pattern WORD = Pattern.compile("\\p{L}+");
  private static final Pattern NUMBER = Pattern.compile("\\d+");

  /** A difficulty setting to generate with. */
  record Knobs(String name, Settings settings) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Knobs> knobs() {
    Settings defaults = Settings.defaults();
    return Stream.of(
        new Knobs("defaults", defaults),
        new Knobs("steps 1..1", defaults.withSteps("1..1")),
        new Knobs("steps 5..8", defaults.withSteps("5..8")),
        new Knobs("add only", new Settings(2, 4, 50, EnumSet.of(Op.ADD))),
        new Knobs("sub only", new Settings(1, 3, 20, EnumSet.of(Op.SUB))),
        new Knobs("mul+div", new Settings(2, 4, 50, EnumSet.of(Op.MUL, Op.DIV))),
        new Knobs("numbers up to 5", new Settings(2, 6, 5, EnumSet.allOf(Op.class))),
        new Knobs("numbers up to a million", new Settings(3, 6, 1_000_000, EnumSet.allOf(Op.class))));
  }

  /** Generated once per settings: several tests look at the same problems. */
  private static final Map<Settings, List<Problem>> GENERATED = new ConcurrentHashMap<>();

  /** Seeds 0..2999 at index 0, then 100 far indices (around 10^9 and Long.MAX_VALUE) of one seed. */
  private static List<Problem> problems(Settings settings) {
    return GENERATED.computeIfAbsent(settings, SyntheticProblemsTest::generate);
  }

  private static List<Problem> generate(Settings settings) {
    Stream<Problem> first = LongStream.range(0, 3000)
        .mapToObj(seed -> new SyntheticProblems(settings, seed, CLOCK).problem(0));
    SyntheticProblems far = new SyntheticProblems(settings, 123_456_789L, CLOCK);
    Stream<Problem> farIndices = LongStream.range(0, 100)
        .mapToObj(i -> far.problem(i % 2 == 0 ? 1_000_000_000L + i : Long.MAX_VALUE - i));
    return Stream.concat(first, farIndices).toList();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("knobs")
  void everySolutionVerifiesAgainstTheGoldAnswer(Knobs knobs) {
    for (Problem p : problems(knobs.settings())) {
      String gold = p.getGoldAnswer();
      assertTrue(gold.matches("\\d+"), p.getId() + ": gold " + gold);
      for (Solution s : p.getSolutions()) {
        Gsm8kSolution parsed = Gsm8kSolution.parse(s.getText());
        Gsm8kSolution.Check check = parsed.check(Optional.of(gold));
        assertTrue(check.ok(), () -> p.getId() + " " + s.getStyle() + ": " + check.errors() + "\n" + s.getText());
        assertEquals(Optional.of(gold), parsed.finalAnswer(), p.getId());
        List<Gsm8kSolution.Annotation> annotations = parsed.annotations();
        assertEquals(new BigDecimal(gold), new BigDecimal(annotations.get(annotations.size() - 1).claimed()),
            p.getId() + " " + s.getStyle() + ": last annotation");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("knobs")
  void theSequentialSolutionHasOneCalculationPerStep(Knobs knobs) {
    Settings settings = knobs.settings();
    for (Problem p : problems(settings)) {
      int steps = Integer.parseInt(p.getMetadata().get("steps"));
      assertTrue(settings.minSteps() <= steps && steps <= settings.maxSteps(), p.getId() + ": " + steps + " steps");
      Solution sequential = p.getSolutions().get(0);
      assertEquals("sequential", sequential.getStyle(), p.getId());
      assertEquals(steps, Gsm8kSolution.parse(sequential.getText()).annotations().size(), p.getId());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("knobs")
  void solutionsAreDistinctAndLabelledByStyle(Knobs knobs) {
    for (Problem p : problems(knobs.settings())) {
      List<String> styles = p.getSolutions().stream().map(Solution::getStyle).toList();
      List<String> texts = p.getSolutions().stream().map(Solution::getText).toList();
      assertTrue(STYLES.containsAll(styles), p.getId() + ": " + styles);
      assertEquals(styles.size(), new HashSet<>(styles).size(), p.getId() + ": " + styles);
      assertEquals(texts.size(), new HashSet<>(texts).size(), p.getId() + ": duplicate texts");
      assertEquals(String.valueOf(styles.size()), p.getMetadata().get("styles"), p.getId());
    }
  }

  @Test
  void manyProblemsHaveSeveralSolutionStyles() {
    List<Problem> problems = problems(Settings.defaults());
    long several = problems.stream().filter(p -> p.getSolutions().size() >= 2).count();
    assertTrue(several > 0.3 * problems.size(), several + " of " + problems.size());
    Set<String> seen = problems.stream().flatMap(p -> p.getSolutions().stream()).map(Solution::getStyle)
        .collect(Collectors.toSet());
    assertEquals(STYLES, seen);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("knobs")
  void questionsUseOnlyPublishedAndTemplateWords(Knobs knobs) {
    Set<String> allowed = new HashSet<>(SyntheticProblems.vocabulary());
    Set<String> solutionAllowed = allowed;
    Set<String> seen = new TreeSet<>();
    for (Problem p : problems(knobs.settings())) {
      Set<String> words = words(p.getQuestion());
      assertTrue(allowed.containsAll(words), p.getId() + ": unexpected words in " + p.getQuestion());
      seen.addAll(words);
      for (Solution s : p.getSolutions()) {
        assertTrue(solutionAllowed.containsAll(words(s.getText())), p.getId() + ": unexpected words in " + s.getText());
      }
    }
    assertTrue(seen.containsAll(SyntheticProblems.NAMES), "names seen: " + seen);
    assertTrue(seen.containsAll(SyntheticProblems.ITEMS), "items seen: " + seen);
  }

  /** maxNumber is the largest operand: no number in a question exceeds it. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("knobs")
  void questionsStateNoNumberAboveMaxNumber(Knobs knobs) {
    for (Problem p : problems(knobs.settings())) {
      Matcher m = NUMBER.matcher(p.getQuestion());
      while (m.find()) {
        assertTrue(Long.parseLong(m.group()) <= knobs.settings().maxNumber(), p.getId() + ": " + p.getQuestion());
      }
    }
  }

  /** Totals of long, multiplication-heavy stories must not overflow into wrong answers. */
  @ParameterizedTest
  @ValueSource(strings = {"ADD,SUB,MUL,DIV", "ADD,MUL", "MUL,DIV"})
  void longStoriesStayExactAndVerifiable(String ops) {
    Set<Op> set = Arrays.stream(ops.split(",")).map(Op::valueOf).collect(Collectors.toSet());
    Settings settings = new Settings(30, 50, 1_000_000, set);
    for (long seed = 0; seed < 200; seed++) {
      Problem p = new SyntheticProblems(settings, seed, CLOCK).problem(0);
      for (Solution s : p.getSolutions()) {
        Gsm8kSolution.Check check = Gsm8kSolution.parse(s.getText()).check(Optional.of(p.getGoldAnswer()));
        assertTrue(check.ok(), p.getId() + " " + s.getStyle() + ": " + check.errors());
      }
    }
  }

  @Test
  void aStoryThatCannotBeWrittenIsAnErrorNotAWrongAnswer() {
    Settings mulOnly = new Settings(50, 50, 1_000_000, EnumSet.of(Op.MUL));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new SyntheticProblems(mulOnly, 1, CLOCK).problem(0));
    assertTrue(e.getMessage().contains("50-step"), e.getMessage());
  }

  @Test
  void theSameSeedAndIndexGiveTheSameProblem() {
    for (long seed : new long[] {0, 1, -5, Long.MAX_VALUE}) {
      for (long index : new long[] {0, 1, 999, Long.MAX_VALUE}) {
        Problem a = new SyntheticProblems(Settings.defaults(), seed, CLOCK).problem(index);
        Problem b = new SyntheticProblems(Settings.defaults(), seed, CLOCK).problem(index);
        assertEquals(a, b);
        assertEquals("syn-" + seed + "-" + index, a.getId());
      }
    }
  }

  @Test
  void theClockOnlyChangesCreatedAt() {
    Clock later = Clock.offset(CLOCK, java.time.Duration.ofDays(1));
    Problem a = new SyntheticProblems(Settings.defaults(), 3, CLOCK).problem(0);
    Problem b = new SyntheticProblems(Settings.defaults(), 3, later).problem(0);
    assertEquals(CLOCK.instant(), a.getCreatedAt());
    assertNotEquals(a.getCreatedAt(), b.getCreatedAt());
    b.setCreatedAt(a.getCreatedAt());
    assertEquals(a, b);
  }

  @Test
  void differentSeedsAndIndicesGiveDifferentQuestions() {
    long bySeed = LongStream.range(0, 3000)
        .mapToObj(seed -> new SyntheticProblems(Settings.defaults(), seed, CLOCK).problem(0).getQuestion())
        .distinct().count();
    assertTrue(bySeed > 2950, bySeed + " distinct questions of 3000 seeds");
    SyntheticProblems one = new SyntheticProblems(Settings.defaults(), 42, CLOCK);
    long byIndex = LongStream.range(0, 3000).mapToObj(i -> one.problem(i).getQuestion()).distinct().count();
    assertTrue(byIndex > 2950, byIndex + " distinct questions of 3000 indices");
  }

  @Test
  void firstIsTheProblemsInIndexOrder() {
    SyntheticProblems problems = new SyntheticProblems(Settings.defaults(), 9, CLOCK);
    List<Problem> first = problems.first(25);
    assertEquals(LongStream.range(0, 25).mapToObj(problems::problem).toList(), first);
    for (Problem p : first) {
      assertEquals("synthetic", p.getSource());
      assertEquals("arithmetic", p.getTask());
      assertEquals("9", p.getMetadata().get("seed"));
    }
    assertEquals(List.of(), problems.first(0));
  }

  @ParameterizedTest(name = "''{0}''")
  @CsvSource(delimiter = '|', value = {
      "0..2    | got 0..2",
      "5..3    | got 5..3",
      "-1      | got -1..-1",
      "51      | got 51",
      "a..b    | got 'a..b'",
      "1..2..3 | got '1..2..3'",
      "3..     | got '3..'",
      "''      | got ''",
  })
  void badStepRangesAreRejectedWithTheValue(String range, String shown) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Settings.defaults().withSteps(range));
    assertTrue(e.getMessage().contains(shown), e.getMessage());
  }

  @Test
  void goodStepRangesParse() {
    assertEquals(new Settings(5, 8, 50, EnumSet.allOf(Op.class)), Settings.defaults().withSteps("5..8"));
    assertEquals(new Settings(3, 3, 50, EnumSet.allOf(Op.class)), Settings.defaults().withSteps(" 3 "));
    assertEquals(new Settings(1, 50, 50, EnumSet.allOf(Op.class)), Settings.defaults().withSteps("1 .. 50"));
  }

  @Test
  void badOperationSetsAreRejectedWithTheValue() {
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> new Settings(2, 4, 50, EnumSet.noneOf(Op.class)));
    assertTrue(empty.getMessage().contains("[]"), empty.getMessage());
    IllegalArgumentException divOnly = assertThrows(IllegalArgumentException.class,
        () -> new Settings(2, 4, 50, EnumSet.of(Op.DIV)));
    assertTrue(divOnly.getMessage().contains("[DIV]"), divOnly.getMessage());
  }

  @Test
  void badNumbersAndCountsAreRejectedWithTheValue() {
    IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
        () -> new Settings(2, 4, 4, EnumSet.allOf(Op.class)));
    assertTrue(small.getMessage().contains("got 4"), small.getMessage());
    IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
        () -> new SyntheticProblems(Settings.defaults(), 1, CLOCK).first(-1));
    assertTrue(count.getMessage().contains("got -1"), count.getMessage());
  }

  private static Set<String> words(String text) {
    Set<String> words = new HashSet<>();
    Matcher m = WORD.matcher(text);
    while (m.find()) {
      words.add(m.group());
    }
    return words;
  }
}
