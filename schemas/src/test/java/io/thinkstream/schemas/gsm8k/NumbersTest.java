package io.thinkstream.schemas.gsm8k;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class NumbersTest {
  @Test
  void decimalAcceptsWhatTheRegexAccepts() {
    Pattern regex = Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)");
    Random random = new Random(11);
    String alphabet = "0123456789..+-e ٣";
    for (int trial = 0; trial < 20_000; trial++) {
      StringBuilder t = new StringBuilder();
      for (int i = random.nextInt(7); i > 0; i--) {
        t.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      assertEquals(regex.matcher(t).matches(), Numbers.decimal(t.toString()), "'" + t + "'");
    }
  }

  @Test
  void parsesAndMatchesAsGsm8kWritesNumbers() {
    assertEquals(Optional.of(new BigDecimal("1200.5")), Numbers.parse(" 1,200.5 "));
    assertEquals(Optional.of(new BigDecimal("-3")), Numbers.parse("-3"));
    assertEquals(Optional.of(new BigDecimal(".5")), Numbers.parse(".5"));
    assertEquals(Optional.empty(), Numbers.parse("5.."));
    assertEquals(Optional.empty(), Numbers.parse("-"));
    assertTrue(Numbers.matches(new BigDecimal("0.75"), "3/4"));
    assertTrue(Numbers.matches(new BigDecimal("2.345"), "2.35"));
    assertFalse(Numbers.matches(new BigDecimal("7"), "8"));
  }
}
