package io.thinkstream.schemas.gsm8k;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Optional;
import java.util.regex.Pattern;

/** Number text as GSM8K writes it: thousands separators, an optional sign, decimals, a fraction {@code a/b}. */
public final class Numbers {
  /** Compiled once: {@code String.matches} compiles its pattern on every call, and verification calls this per annotation. */
  private static final Pattern DECIMAL = Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)");
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
    if (!DECIMAL.matcher(t).matches()) {
      return Optional.empty();
    }
    return Optional.of(new BigDecimal(t));
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
