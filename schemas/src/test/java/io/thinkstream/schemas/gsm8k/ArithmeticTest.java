package io.thinkstream.schemas.gsm8k;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ArithmeticTest {

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(delimiter = '|', value = {
      "2+3             | 5",
      "10-4-3          | 3",
      "2*3+4           | 10",
      "2+3*4           | 14",
      "(2+3)*4         | 20",
      "48/2            | 24",
      "100/8           | 12.5",
      "8/2/2           | 2",
      "((1+2)*(3+4))   | 21",
      "-5+2            | -3",
      "-(2+3)          | -5",
      "3*-2            | -6",
      "--4             | 4",
      "+4              | 4",
      ".5*8            | 4",
      "18*.5           | 9",
      "0.25*4          | 1",
      "1,000+2,500     | 3500",
      "1,234,567*1     | 1234567",
      "1,000.5*2       | 2001",
      " 2 * ( 3 + 4 )  | 14",
      "2x3             | 6",
      "6÷4             | 1.5",
      "1/3*3           | 1",
      "7//2            | 3",
      "-7//2           | -4",
      "7.5//2          | 3",
      "10//3*3         | 9",
      "3/4             | 0.75",
  })
  void evaluates(String expression, BigDecimal expected) {
    BigDecimal value = Arithmetic.evaluate(expression);
    assertEquals(0, expected.compareTo(value.round(new java.math.MathContext(30))),
        expression + " = " + value + ", expected " + expected);
  }

  @Test
  void divisionKeeps34SignificantDigits() {
    assertEquals(new BigDecimal("0.3333333333333333333333333333333333"), Arithmetic.evaluate("1/3"));
  }

  @ParameterizedTest(name = "''{0}'' -> {1}")
  @CsvSource(delimiter = '|', value = {
      "2+           | expected a number",
      "3*(4         | missing ')'",
      "import os    | expected a number at 'i'",
      "2 3          | unexpected '3'",
      "''           | expected a number",
      "()           | expected a number at ')'",
      "1.2.3        | malformed number '1.2.3'",
      "560///10     | expected a number at '/'",
      "2**3         | expected a number at '*'",
      "1e5          | unexpected 'e'",
      ".            | malformed number",
      "5+.          | malformed number",
      ",5           | expected a number at ','",
      "1,2          | unexpected ','",
      "1,0000       | unexpected ','",
      "__import__('os') | expected a number at '_'",
  })
  void rejectsMalformedInputSayingWhere(String expression, String reason) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Arithmetic.evaluate(expression));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
    assertTrue(e.getMessage().contains("of '" + expression + "'"), e.getMessage());
  }

  @Test
  void divisionByZeroIsAnError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Arithmetic.evaluate("1/0"));
    assertTrue(e.getMessage().contains("division by zero"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Arithmetic.evaluate("5/(2-2)"));
  }

  @Test
  void overlongExpressionsAreRefused() {
    String deep = "(".repeat(300) + "1" + ")".repeat(300);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Arithmetic.evaluate(deep));
    assertTrue(e.getMessage().contains("longer than 500"), e.getMessage());
    assertEquals(BigDecimal.ONE, Arithmetic.evaluate("(".repeat(240) + "1" + ")".repeat(240)));
  }
}
