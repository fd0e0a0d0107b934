package io.thinkstream.schemas.gsm8k;

import io.thinkstream.schemas.text.FinalAnswer;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
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

  /**
   * The steps (non-blank lines, stripped), annotations and final answer of {@code text}, whose
   * lines are split at regex {@code \R} line breaks ({@code \r\n} or one of
   * {@code \n \u000B \f \r \u0085 \u2028 \u2029}). One pass over the text by index: the verifier
   * parses every sample, and cutting each line out first cost more than the rest of the parse.
   */
  public static Gsm8kSolution parse(String text) {
    String t = text.strip();
    List<String> steps = new ArrayList<>();
    List<Annotation> annotations = new ArrayList<>();
    Optional<String> finalAnswer = Optional.empty();
    Cursor hashes = new Cursor(t, "####");
    Cursor opens = new Cursor(t, "<<");
    int length = t.length();
    for (int start = 0, end; start <= length; start = end + (t.startsWith("\r\n", end) ? 2 : 1)) {
      end = start;
      while (end < length && !lineBreak(t.charAt(end))) {
        end++;
      }
      if (hashes.within(start, end)) { // the verifier parses every sample: most lines need no regex
        Matcher fin = FINAL.matcher(t.substring(start, end));
        if (fin.matches()) {
          finalAnswer = Optional.of(fin.group(1));
          continue;
        }
      }
      int first = start;
      int last = end;
      while (first < last && Character.isWhitespace(t.charAt(first))) {
        first++;
      }
      while (last > first && Character.isWhitespace(t.charAt(last - 1))) {
        last--;
      }
      if (first == last) {
        continue; // a blank line
      }
      annotations(t, start, end, opens, steps.size(), annotations);
      steps.add(t.substring(first, last));
    }
    return new Gsm8kSolution(steps, annotations, finalAnswer);
  }

  /** The characters regex {@code \R} breaks lines at ({@code \r\n} counts once, see {@link #parse}). */
  private static boolean lineBreak(char c) {
    return c == '\n' || c == '\u000B' || c == '\f' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
  }

  /**
   * The next occurrence of a marker in a text, searched again only once the scan has passed it:
   * searching from every line's start would rescan the rest of the text per line when the marker
   * is rare or absent.
   */
  private static final class Cursor {
    private final String text;
    private final String marker;
    private int at = -2; // not searched yet

    Cursor(String text, String marker) {
      this.text = text;
      this.marker = marker;
    }

    /** The first occurrence at or after {@code from}, or -1. */
    int from(int from) {
      if (at != -1 && at < from) {
        at = text.indexOf(marker, from);
      }
      return at;
    }

    /** Whether an occurrence starts at or after {@code from} and ends by {@code end}. */
    boolean within(int from, int end) {
      int i = from(from);
      return i >= 0 && i + marker.length() <= end;
    }
  }

  /**
   * Adds the annotations of the line {@code text[start, end)}, found as regex
   * {@code <<([^<>=]*)=([^<>]*)>>} finds them (leftmost first, each search after the previous
   * match), by hand: on the stream thread the regex cost a quarter of the verifier's time. Neither
   * run can backtrack to a shorter match (the character after a shorter run is in the run), so
   * trying each {@code <<} suffices.
   */
  static void annotations(String text, int start, int end, int step, List<Annotation> out) {
    annotations(text, start, end, new Cursor(text, "<<"), step, out);
  }

  private static void annotations(String text, int start, int end, Cursor opens, int step, List<Annotation> out) {
    int from = start;
    for (int open; (open = opens.from(from)) >= 0 && open + 2 <= end; ) {
      int equals = open + 2;
      while (equals < end && text.charAt(equals) != '<' && text.charAt(equals) != '>' && text.charAt(equals) != '=') {
        equals++;
      }
      if (equals < end && text.charAt(equals) == '=') {
        int close = equals + 1;
        while (close < end && text.charAt(close) != '<' && text.charAt(close) != '>') {
          close++;
        }
        if (close + 2 <= end && text.charAt(close) == '>' && text.charAt(close + 1) == '>') {
          String expression = text.substring(open + 2, equals).strip();
          out.add(new Annotation(step, expression, text.substring(equals + 1, close).strip()));
          from = close + 2;
          continue;
        }
      }
      from = open + 1; // no match starts here; the next may start inside this '<<'
    }
  }

  /**
   * Checks each annotation's arithmetic and that the final answer is present, is a number and
   * equals {@code gold} (when given).
   */
  public Check check(Optional<String> gold) {
    List<String> errors = new ArrayList<>();
    int ok = 0;
    for (Annotation a : annotations) {
      OptionalLong exact = IntegerArithmetic.evaluate(a.expression());
      if (exact.isPresent() && Numbers.integer(a.claimed()).equals(exact)) {
        ok++; // the usual annotation, integers throughout: no BigDecimal needed
        continue;
      }
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
