package io.thinkstream.schemas.gsm8k;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Optional;
import java.util.OptionalLong;

/** Number text as GSM8K writes it: thousands separators, an optional sign, decimals, a fraction {@code a/b}. */
public final class Numbers {
  private static final BigDecimal INTEGER_TOLERANCE = new BigDecimal("1e-9");

  private Numbers() {}

  public static Optional<BigDecimal> parse(String text) {
    String t = text.strip().replace(",", "");
    int slash = t.indexOf('/');
    if (slash > 0) {
      // "<<3/4=3/4>>" (GSM8K test row 320) claims a fraction; 34 digits make 1/3 compare within the tolerance
      Optional<BigDecimal> num = parse(t.substring(0, slash));
      Optional<BigDecimal> den = parse(t.substring(slash + 1));
      return num.isEmpty() || den.isEmpty() || den.get().signum() == 0 || t.indexOf('/', slash + 1) >= 0
          ? Optional.empty() : Optional.of(num.get().divide(den.get(), MathContext.DECIMAL128));
    }
    if (!decimal(t)) {
      return Optional.empty();
    }
    return Optional.of(new BigDecimal(t));
  }

  /**
   * {@code text} as a long when, stripped, it is a plain integer: an optional sign and 1 to 18
   * ASCII digits (no separators), which {@link #parse} reads as that same number; empty otherwise.
   */
  static OptionalLong integer(String text) {
    String t = text.strip();
    int i = !t.isEmpty() && (t.charAt(0) == '-' || t.charAt(0) == '+') ? 1 : 0;
    int digits = digits(t, i);
    if (digits == 0 || digits > 18 || i + digits != t.length()) {
      return OptionalLong.empty();
    }
    long value = Long.parseLong(t, i, t.length(), 10);
    return OptionalLong.of(t.charAt(0) == '-' ? -value : value);
  }

  /**
   * Whether {@code t} is regex {@code [-+]?(\\d+\\.?\\d*|\\.\\d+)} (ASCII digits), checked by hand:
   * verification calls this per annotation, and the regex was a tenth of its time.
   */
  static boolean decimal(String t) {
    int i = !t.isEmpty() && (t.charAt(0) == '-' || t.charAt(0) == '+') ? 1 : 0;
    int whole = digits(t, i);
    i += whole;
    if (i < t.length() && t.charAt(i) == '.') {
      int fraction = digits(t, i + 1);
      return (whole > 0 || fraction > 0) && i + 1 + fraction == t.length();
    }
    return whole > 0 && i == t.length();
  }

  private static int digits(String t, int from) {
    int i = from;
    while (i < t.length() && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
      i++;
    }
    return i - from;
  }

  /**
   * Whether {@code value} equals the number written as {@code claimed}, allowing the rounding the
   * writer applied: a claimed value with d decimals matches within half a unit of its last digit.
   */
  public static boolean matches(BigDecimal value, String claimed) {
    Optional<BigDecimal> c = parse(claimed);
    if (c.isEmpty()) {
      return false;
    }
    BigDecimal tolerance = c.get().scale() > 0
        ? BigDecimal.ONE.movePointLeft(c.get().scale()).divide(BigDecimal.valueOf(2))
        : INTEGER_TOLERANCE;
    return value.subtract(c.get()).abs().compareTo(tolerance) <= 0;
  }
}
