package io.thinkstream.schemas.gsm8k;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.schemas.gsm8k.Gsm8kSolution.Annotation;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution.Check;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Gsm8kSolutionTest {
  /** GSM8K train row 1. */
  private static final String NATALIA = """
      Natalia sold 48/2 = <<48/2=24>>24 clips in May.
      Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.
      #### 72""";

  /** The annotations that regex {@code <<([^<>=]*)=([^<>]*)>>} finds, as the hand-written scan must. */
  private static List<Annotation> byRegex(String line) {
    List<Annotation> out = new ArrayList<>();
    Matcher m = Pattern.compile("<<([^<>=]*)=([^<>]*)>>").matcher(line);
    while (m.find()) {
      out.add(new Annotation(0, m.group(1).strip(), m.group(2).strip()));
    }
    return out;
  }

  @Test
  void annotationsAreFoundAsTheRegexFindsThem() {
    Random random = new Random(3);
    String alphabet = "<<>>==a1 ";
    for (int trial = 0; trial < 20_000; trial++) {
      StringBuilder line = new StringBuilder();
      for (int i = random.nextInt(24); i > 0; i--) {
        line.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      List<Annotation> found = new ArrayList<>();
      String text = "<<1=2>>\n" + line + "\n<<3=4>>"; // the line's neighbours must not leak into it
      Gsm8kSolution.annotations(text, 8, 8 + line.length(), 0, found);
      assertEquals(byRegex(line.toString()), found, "'" + line + "'");
    }
    List<Annotation> found = new ArrayList<>();
    String line = "<<<1+1=2>> and <<2*3 = 6 >>, <<x>> <<=>>";
    Gsm8kSolution.annotations(line, 0, line.length(), 0, found);
    assertEquals(List.of(new Annotation(0, "1+1", "2"), new Annotation(0, "2*3", "6"), new Annotation(0, "", "")), found);
  }

  /** Parse as it was written first: split into lines, then each line on its own. */
  private static Gsm8kSolution byLines(String text) {
    List<String> steps = new ArrayList<>();
    List<Annotation> annotations = new ArrayList<>();
    Optional<String> finalAnswer = Optional.empty();
    for (String line : text.strip().split("\\R", -1)) {
      Matcher fin = Pattern.compile("^\\s*####\\s*(.*?)\\s*$").matcher(line);
      if (fin.matches()) {
        finalAnswer = Optional.of(fin.group(1));
        continue;
      }
      if (line.isBlank()) {
        continue;
      }
      for (Annotation a : byRegex(line)) {
        annotations.add(new Annotation(steps.size(), a.expression(), a.claimed()));
      }
      steps.add(line.strip());
    }
    return new Gsm8kSolution(steps, annotations, finalAnswer);
  }

  @Test
  void parsesAsSplittingIntoLinesDoes() {
    Random random = new Random(5);
    String[] pieces = {"a", "1", " ", "\t", "\u2003", "\n", "\r", "\r\n", "\u0085", "\u2028", "\f", "\u000B", "<<",
        ">>", "=", "<", ">", "#", "####", "<<2*3=6>>", "#### 5"};
    for (int trial = 0; trial < 20_000; trial++) {
      StringBuilder text = new StringBuilder();
      for (int i = random.nextInt(16); i > 0; i--) {
        text.append(pieces[random.nextInt(pieces.length)]);
      }
      assertEquals(byLines(text.toString()), Gsm8kSolution.parse(text.toString()), "'" + text + "'");
    }
  }

  @Test
  void parsesStepsAnnotationsAndFinalAnswer() {
    Gsm8kSolution s = Gsm8kSolution.parse(NATALIA);
    assertEquals(List.of("Natalia sold 48/2 = <<48/2=24>>24 clips in May.",
        "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May."), s.steps());
    assertEquals(List.of(new Annotation(0, "48/2", "24"), new Annotation(1, "48+24", "72")), s.annotations());
    assertEquals(Optional.of("72"), s.finalAnswer());
  }

  @Test
  void aCorrectSolutionChecksOk() {
    Check check = Gsm8kSolution.parse(NATALIA).check(Optional.of("72"));
    assertEquals(new Check(2, 2, true, List.of()), check);
    assertTrue(check.ok());
  }

  @Test
  void withoutGoldOnlyTheArithmeticAndTheFinalLineAreChecked() {
    assertTrue(Gsm8kSolution.parse(NATALIA).check(Optional.empty()).ok());
  }

  @Test
  void blankLinesCrlfAndSeveralAnnotationsPerStep() {
    Gsm8kSolution s = Gsm8kSolution.parse("\r\n  a <<2*3=6>> and <<6+1=7>>  \r\n\r\nb <<7-2=5>>\r\n####   5  \r\n");
    assertEquals(List.of("a <<2*3=6>> and <<6+1=7>>", "b <<7-2=5>>"), s.steps());
    assertEquals(List.of(new Annotation(0, "2*3", "6"), new Annotation(0, "6+1", "7"), new Annotation(1, "7-2", "5")),
        s.annotations());
    assertEquals(Optional.of("5"), s.finalAnswer());
    assertTrue(s.check(Optional.of("5")).ok());
  }

  @Test
  void everyLineBreakOfRegexBackslashRSeparatesSteps() {
    Gsm8kSolution s = Gsm8kSolution.parse("\u0085a <<1+1=2>>\u2028b\rc\u000Bd\fe\u2029f\n\r\ng\r\n#### 2");
    assertEquals(List.of("a <<1+1=2>>", "b", "c", "d", "e", "f", "g"), s.steps());
    assertEquals(List.of(new Annotation(0, "1+1", "2")), s.annotations());
    assertEquals(Optional.of("2"), s.finalAnswer());
  }

  @Test
  void aWrongAnnotationIsFlaggedWithItsStep() {
    Check check = Gsm8kSolution.parse(NATALIA.replace("<<48+24=72>>", "<<48+24=73>>")).check(Optional.of("72"));
    assertFalse(check.ok());
    assertEquals(2, check.annotations());
    assertEquals(1, check.annotationsOk());
    assertTrue(check.finalAnswerOk());
    assertEquals(List.of("step 2: 48+24 = 72, not 73"), check.errors());
  }

  @Test
  void aWrongFinalAnswerIsFlagged() {
    Check check = Gsm8kSolution.parse(NATALIA).check(Optional.of("71"));
    assertFalse(check.ok());
    assertFalse(check.finalAnswerOk());
    assertEquals(2, check.annotationsOk());
    assertEquals(List.of("final answer 72 differs from gold 71"), check.errors());
  }

  @Test
  void aMissingFinalLineIsFlagged() {
    Check check = Gsm8kSolution.parse("She has 2+3=<<2+3=5>>5 apples.").check(Optional.of("5"));
    assertEquals(Optional.empty(), Gsm8kSolution.parse("She has 5.").finalAnswer());
    assertFalse(check.finalAnswerOk());
    assertEquals(List.of("no final answer line '#### ...'"), check.errors());
  }

  @Test
  void aFinalAnswerThatIsNotANumberIsFlagged() {
    Check check = Gsm8kSolution.parse("#### seventy-two").check(Optional.empty());
    assertFalse(check.finalAnswerOk());
    assertEquals(List.of("final answer 'seventy-two' is not a number"), check.errors());
  }

  @Test
  void unsafeOrBrokenAnnotationsAreErrorsNotExceptions() {
    Check check = Gsm8kSolution.parse("a <<import os=1>>\nb <<1/0=1>>\nc <<2+=2>>\n#### 1").check(Optional.of("1"));
    assertEquals(3, check.annotations());
    assertEquals(0, check.annotationsOk());
    assertEquals(3, check.errors().size());
    assertTrue(check.errors().get(0).startsWith("step 1: expected a number at 'i'"), check.errors().get(0));
    assertTrue(check.errors().get(1).startsWith("step 2: division by zero"), check.errors().get(1));
    assertTrue(check.errors().get(2).startsWith("step 3: expected a number"), check.errors().get(2));
  }

  @Test
  void finalAnswersAndGoldMayUseThousandsSeparators() {
    assertTrue(Gsm8kSolution.parse("#### 1,200").check(Optional.of("1200")).ok());
    assertTrue(Gsm8kSolution.parse("#### 1200").check(Optional.of("1,200")).ok());
    assertTrue(Gsm8kSolution.parse("#### 12.50").check(Optional.of("12.5")).ok());
    assertFalse(Gsm8kSolution.parse("#### 1,201").check(Optional.of("1200")).ok());
  }

  /** GSM8K rounds its calculator results; a claim with d decimals may be off by half a unit of the last one. */
  @ParameterizedTest(name = "<<{0}={1}>> ok={2}")
  @CsvSource({
      "10/3, 3.33, true",
      "10/3, 3.3, true",
      "10/3, 3.333333, true",
      "2/3, .67, true",
      "2/3, 0.7, true",
      "18*.5, 9.00, true",
      "10/3, 3.34, false",
      "10/3, 3.32, false",
      "10/3, 3, false",
      "2/3, 1, false",
      "7/2, 3.5, true",
      "7/2, 4, false",
  })
  void roundedAnnotationsWithinHalfAUnitAreAccepted(String expression, String claimed, boolean ok) {
    Check check = Gsm8kSolution.parse("x <<" + expression + "=" + claimed + ">>\n#### 1").check(Optional.empty());
    assertEquals(ok ? 1 : 0, check.annotationsOk(), check.errors().toString());
  }

  @Test
  void fractionAnnotationsAndFloorDivisionCheckOk() {
    // GSM8K test row 320 claims a fraction; some annotations are Python
    Gsm8kSolution s = Gsm8kSolution.parse("It is <<3/4=3/4>>3/4 of them\nThen <<45//3=15>>15 groups\n"
        + "A third: <<1/3=1/3>>1/3\n#### 15");
    Gsm8kSolution.Check check = s.check(java.util.Optional.of("15"));
    org.junit.jupiter.api.Assertions.assertEquals(3, check.annotationsOk(), check.errors().toString());
    org.junit.jupiter.api.Assertions.assertTrue(check.ok(), check.errors().toString());
    org.junit.jupiter.api.Assertions.assertFalse(Gsm8kSolution.parse("<<3/4=4/3>>\n#### 1").check(
        java.util.Optional.empty()).ok());
  }
}
