package io.thinkstream.schemas.gsm8k;

import io.thinkstream.schemas.text.FinalAnswer;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A solution in GSM8K's format: reasoning steps one per line, calculator annotations
 * {@code <<48/2=24>>} inside the steps, and a last line {@code #### 72} with the final answer.
 * The final answer is read and compared by the one extractor, {@link FinalAnswer}.
 */
public record Gsm8kSolution(List<String> steps, List<Annotation> annotations, Optional<String> finalAnswer) {
  private static final Pattern FINAL = Pattern.compile("^\\s*####\\s*(.*?)\\s*$");

  /** One {@code <<expr=claimed>>}, on step {@code step} (0-based). */
  public record Annotation(int step, String expression, String claimed) {}

  /** The result of checking every annotation and the final answer. */
  public record Check(int annotations, int annotationsOk, boolean finalAnswerOk, List<String> errors) {
    public boolean ok() {
      return errors.isEmpty();
    }
  }

  public Gsm8kSolution {
    steps = List.copyOf(steps);
    annotations = List.copyOf(annotations);
  }

  public static Gsm8kSolution parse(String text) {
    List<String> steps = new ArrayList<>();
    List<Annotation> annotations = new ArrayList<>();
    Optional<String> finalAnswer = Optional.empty();
    for (String line : lines(text.strip())) {
      Matcher fin = line.contains("####") ? FINAL.matcher(line) : null; // the verifier parses every sample: most lines need no regex
      if (fin != null && fin.matches()) {
        finalAnswer = Optional.of(fin.group(1));
        continue;
      }
      if (line.isBlank()) {
        continue;
      }
      annotations(line, steps.size(), annotations);
      steps.add(line.strip());
    }
    return new Gsm8kSolution(steps, annotations, finalAnswer);
  }

  /**
   * Adds the annotations of one line, found as regex {@code <<([^<>=]*)=([^<>]*)>>} finds them
   * (leftmost first, each search after the previous match), by hand: on the stream thread the
   * regex cost a quarter of the verifier's time. Neither run can backtrack to a shorter match
   * (the character after a shorter run is in the run), so trying each {@code <<} suffices.
   */
  static void annotations(String line, int step, List<Annotation> out) {
    int from = 0;
    for (int open; (open = line.indexOf("<<", from)) >= 0; ) {
      int equals = open + 2;
      while (equals < line.length() && "<>=".indexOf(line.charAt(equals)) < 0) {
        equals++;
      }
      if (equals < line.length() && line.charAt(equals) == '=') {
        int close = equals + 1;
        while (close < line.length() && line.charAt(close) != '<' && line.charAt(close) != '>') {
          close++;
        }
        if (line.startsWith(">>", close)) {
          String expression = line.substring(open + 2, equals).strip();
          out.add(new Annotation(step, expression, line.substring(equals + 1, close).strip()));
          from = close + 2;
          continue;
        }
      }
      from = open + 1; // no match starts here; the next may start inside this '<<'
    }
  }

  /**
   * The text split at regex {@code \R} line breaks ({@code \r\n} or one of
   * {@code \n \u000B \f \r \u0085 \u2028 \u2029}), by hand: the verifier parses every sample and a
   * regex split cost more than the rest of the parse. Unlike {@code split}, empty lines are kept
   * everywhere; {@link #parse} skips blank lines anyway.
   */
  private static List<String> lines(String text) {
    List<String> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n' || c == '\u000B' || c == '\f' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
        lines.add(text.substring(start, i));
        if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
          i++;
        }
        start = i + 1;
      }
    }
    lines.add(text.substring(start));
    return lines;
  }

  /**
   * Checks each annotation's arithmetic and that the final answer is present, is a number and
   * equals {@code gold} (when given).
   */
  public Check check(Optional<String> gold) {
    List<String> errors = new ArrayList<>();
    int ok = 0;
    for (Annotation a : annotations) {
      try {
        BigDecimal value = Arithmetic.evaluate(a.expression());
        if (Numbers.matches(value, a.claimed())) {
          ok++;
        } else {
          errors.add("step " + (a.step() + 1) + ": " + a.expression() + " = "
              + value.stripTrailingZeros().toPlainString() + ", not " + a.claimed());
        }
      } catch (IllegalArgumentException | ArithmeticException e) {
        errors.add("step " + (a.step() + 1) + ": " + e.getMessage());
      }
    }
    boolean finalOk = false;
    if (finalAnswer.isEmpty()) {
      errors.add("no final answer line '#### ...'");
    } else {
      FinalAnswer answer = FinalAnswer.extract("#### " + finalAnswer.get());
      if (answer.value().isEmpty()) {
        errors.add("final answer '" + finalAnswer.get() + "' is not a number");
      } else if (gold.isPresent() && !answer.matches(gold.get())) {
        errors.add("final answer " + finalAnswer.get() + " differs from gold " + gold.get());
      } else {
        finalOk = true;
      }
    }
    return new Check(annotations.size(), ok, finalOk, errors);
  }
}
