package io.thinkstream.model.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The final answer of a GSM8K-format solution ("#### 42"), normalised, for the SFT trainer's
 * held-out accuracy. The full verifier (annotations, "The answer is") lives in the streams module.
 */
public final class Answers {
  private static final Pattern FINAL = Pattern.compile("####\\s*(-?[\\d,]*\\.?\\d+)");

  private Answers() {}

  /** The number after "####", commas removed, or null when there is none. */
  public static String extract(String solution) {
    Matcher m = FINAL.matcher(solution);
    return m.find() ? m.group(1).replace(",", "") : null;
  }

  public static boolean correct(String solution, String gold) {
    String got = extract(solution);
    if (got == null) {
      return false;
    }
    try {
      return new java.math.BigDecimal(got).compareTo(new java.math.BigDecimal(gold.strip())) == 0;
    } catch (NumberFormatException e) {
      return got.equals(gold.strip());
    }
  }
}
