package io.thinkstream.schemas.text;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The final answer of a solution text and its number. Extraction tries, in order: the last
 * {@code #### X} line (GSM8K), the last "the answer is X", and — flagged as a guess — the last
 * number anywhere. Only a stated answer ({@link Method#HASHES} or {@link Method#ANSWER_IS}) can
 * match: the last-number guess is reported (a verifier shows what it would have been) but is never
 * correct, or a policy would learn that stating no answer and ending on the right number pays. Normalisation accepts thousands separators, currency signs, percent signs,
 * decimals and fractions {@code a/b}, so "$1,200.50", "50%" and "3/4" compare as numbers.
 */
public record FinalAnswer(String text, Method method, Optional<BigDecimal> value) {
  /** How the answer was found; {@link #LAST_NUMBER} means no explicit answer was given. */
  public enum Method { HASHES, ANSWER_IS, LAST_NUMBER, NONE }

  private static final String NUMBER =
      "[-+]?[$€£¥]?\\s*(?:\\d{1,3}(?:,\\d{3})+|\\d+)?(?:\\.\\d+)?(?:\\s*/\\s*\\d+(?:\\.\\d+)?)?\\s*%?";
  private static final Pattern HASHES = Pattern.compile("(?m)^\\s*####\\s*(.+?)\\s*$");
  private static final Pattern ANSWER_IS = Pattern.compile(
      "(?i)(?:final\\s+)?answer\\s*(?:is|:|=)\\s*:?\\s*(" + NUMBER + ")");
  private static final Pattern ANY_NUMBER = Pattern.compile(
      "[-+]?[$€£¥]?(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?(?:\\s*/\\s*\\d+)?%?|[-+]?\\.\\d+%?");
  private static final Pattern NUMBER_PREFIX = Pattern.compile(NUMBER);
  // normalise runs for every verified sample: its patterns are compiled once, not per String.replaceAll call.
  private static final Pattern TRAILING_WORDS = Pattern.compile("(?<=\\d)[.。]?\\s*[A-Za-z][A-Za-z ]*\\.?$");
  private static final Pattern TRAILING_STOP = Pattern.compile("\\.$");
  private static final Pattern DECORATION = Pattern.compile("[$€£¥%\\s]");
  private static final Pattern THOUSANDS = Pattern.compile("[-+]?\\d{1,3}(,\\d{3})+(\\.\\d+)?");
  private static final Pattern PLAIN = Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)");
  private static final MathContext PRECISION = MathContext.DECIMAL64;
  /** Answers are equal when they agree to this many decimals (fractions like 1/3 have no exact decimal). */
  private static final int COMPARE_SCALE = 6;

  public static FinalAnswer NONE_FOUND = new FinalAnswer("", Method.NONE, Optional.empty());

  /** The final answer of {@code text}; {@link #NONE_FOUND} when it holds no number at all. */
  public static FinalAnswer extract(String text) {
    String last = lastGroup(HASHES, text);
    if (last != null) {
      return new FinalAnswer(last, Method.HASHES, leadingNumber(last));
    }
    last = lastGroup(ANSWER_IS, text);
    if (last != null && !last.isBlank() && normalise(last).isPresent()) {
      return new FinalAnswer(last.strip(), Method.ANSWER_IS, normalise(last));
    }
    last = null;
    Matcher m = ANY_NUMBER.matcher(text);
    while (m.find()) {
      last = m.group();
    }
    return last == null ? NONE_FOUND : new FinalAnswer(last, Method.LAST_NUMBER, normalise(last));
  }

  /** Whether the answer was stated ({@code ####} or "the answer is"), not guessed from the last number. */
  public boolean stated() {
    return method == Method.HASHES || method == Method.ANSWER_IS;
  }

  /** Whether the answer was stated and its number equals {@code gold}'s (both normalised). */
  public boolean matches(String gold) {
    Optional<BigDecimal> g = normalise(gold);
    return stated() && value.isPresent() && g.isPresent()
        && value.get().setScale(COMPARE_SCALE, RoundingMode.HALF_UP)
            .compareTo(g.get().setScale(COMPARE_SCALE, RoundingMode.HALF_UP)) == 0;
  }

  /**
   * The number written as {@code text}: sign, currency, thousands separators, decimals, a
   * fraction and a percent sign (kept as written: GSM8K's gold for "50%" is 50). Trailing
   * words and a full stop are allowed ("18 dollars.").
   */
  public static Optional<BigDecimal> normalise(String text) {
    String t = text.strip();
    if (plainInteger(t)) {
      return Optional.of(new BigDecimal(t)); // the usual answer and gold: none of the rewrites below applies
    }
    t = TRAILING_WORDS.matcher(t).replaceAll("").strip(); // "18 dollars." -> "18"
    t = TRAILING_STOP.matcher(t).replaceAll("");
    t = DECORATION.matcher(t).replaceAll("");
    if (THOUSANDS.matcher(t).matches()) {
      t = t.replace(",", "");
    }
    try {
      int slash = t.indexOf('/');
      if (slash > 0) {
        BigDecimal num = plain(t.substring(0, slash));
        BigDecimal den = plain(t.substring(slash + 1));
        return den.signum() == 0 ? Optional.empty() : Optional.of(num.divide(den, PRECISION));
      }
      return Optional.of(plain(t));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Whether {@code t} is an optional sign and ASCII digits only. */
  private static boolean plainInteger(String t) {
    int i = !t.isEmpty() && (t.charAt(0) == '-' || t.charAt(0) == '+') ? 1 : 0;
    if (i == t.length()) {
      return false;
    }
    for (; i < t.length(); i++) {
      if (t.charAt(i) < '0' || t.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private static BigDecimal plain(String t) {
    if (!PLAIN.matcher(t).matches()) {
      throw new NumberFormatException(t);
    }
    return new BigDecimal(t);
  }

  /** The number a {@code ####} line starts with ("#### 18 eggs" is 18). */
  private static Optional<BigDecimal> leadingNumber(String text) {
    Optional<BigDecimal> whole = normalise(text);
    if (whole.isPresent()) {
      return whole;
    }
    Matcher m = NUMBER_PREFIX.matcher(text.strip());
    return m.lookingAt() && !m.group().isBlank() ? normalise(m.group()) : Optional.empty();
  }

  private static String lastGroup(Pattern pattern, String text) {
    String last = null;
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      last = m.group(1);
    }
    return last;
  }
}
