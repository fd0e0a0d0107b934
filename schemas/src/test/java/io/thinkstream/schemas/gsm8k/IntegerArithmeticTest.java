package io.thinkstream.schemas.gsm8k;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The long fast path answers only where it agrees with {@link Arithmetic}, and answers the usual annotation. */
class IntegerArithmeticTest {
  @Test
  void agreesWithArithmeticWheneverItAnswers() {
    Random random = new Random(17);
    String[] numbers = {"0", "7", "12", "999999999", "4611686018427387904", "3", "-3", "(2+4)", ".5", "1,000", "2.0",
        "٣"};
    String[] operators = {"+", "-", "*", "/", "//", "x", "×", "÷", " + ", "*-", "=", ")", "("};
    int answered = 0;
    for (int trial = 0; trial < 50_000; trial++) {
      // mostly well-formed: number (operator number)*, with the odd decimal, separator or stray token
      StringBuilder e = new StringBuilder(numbers[random.nextInt(numbers.length)]);
      for (int i = random.nextInt(5); i > 0; i--) {
        e.append(operators[random.nextInt(operators.length)]).append(numbers[random.nextInt(numbers.length)]);
      }
      String expression = e.toString();
      OptionalLong fast = IntegerArithmetic.evaluate(expression);
      if (fast.isPresent()) {
        answered++;
        assertEquals(0, BigDecimal.valueOf(fast.getAsLong()).compareTo(Arithmetic.evaluate(expression)), expression);
      }
    }
    assertTrue(answered > 5_000, "the fast path answered only " + answered);
  }

  @Test
  void leavesToArithmeticWhatItCannotComputeExactly() {
    assertEquals(OptionalLong.of(14), IntegerArithmetic.evaluate(" 2 * ( 3 + 4 ) "));
    assertEquals(OptionalLong.of(-4), IntegerArithmetic.evaluate("-7//2"));
    assertEquals(OptionalLong.of(24), IntegerArithmetic.evaluate("48÷2"));
    assertEquals(OptionalLong.empty(), IntegerArithmetic.evaluate("100/8"), "a remainder");
    assertEquals(OptionalLong.empty(), IntegerArithmetic.evaluate("1/0"), "Arithmetic says why");
    assertEquals(OptionalLong.empty(), IntegerArithmetic.evaluate("9223372036854775807+1"), "overflow");
    assertEquals(OptionalLong.empty(), IntegerArithmetic.evaluate("1,000+2"), "a thousands separator");
    assertEquals(OptionalLong.empty(), IntegerArithmetic.evaluate("0.5*4"), "a decimal");
    assertEquals(OptionalLong.empty(), IntegerArithmetic.evaluate("2+"), "malformed");
  }

  @Test
  void aPlainIntegerClaimReadsAsNumbersParsesIt() {
    Random random = new Random(19);
    String alphabet = "0123456789+-., /٣";
    for (int trial = 0; trial < 20_000; trial++) {
      StringBuilder t = new StringBuilder();
      for (int i = random.nextInt(8); i > 0; i--) {
        t.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      OptionalLong fast = Numbers.integer(t.toString());
      if (fast.isPresent()) {
        assertEquals(0, BigDecimal.valueOf(fast.getAsLong()).compareTo(Numbers.parse(t.toString()).orElseThrow()), "'" + t + "'");
      }
    }
    assertEquals(OptionalLong.of(-12), Numbers.integer(" -12 "));
    assertEquals(OptionalLong.empty(), Numbers.integer("1,200"));
  }
}
