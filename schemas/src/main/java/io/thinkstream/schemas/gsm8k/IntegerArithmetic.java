package io.thinkstream.schemas.gsm8k;

import java.util.OptionalLong;

/**
 * The fast path of {@link Arithmetic} for the usual calculator annotation: integers, + - * / //
 * (and x × ÷), parentheses and unary signs, evaluated in longs. It answers only when every
 * operation is exact — no overflow, no division with a remainder — so its value is the one
 * {@link Arithmetic} computes; anything else (a decimal, a thousands separator, an inexact or zero
 * division, a malformed expression) is left to {@link Arithmetic}, which also words the errors.
 * The verifier checks every annotation of every sample, and BigDecimal parsing and arithmetic
 * were most of that check.
 */
final class IntegerArithmetic extends ExpressionText {
  private boolean failed;

  private IntegerArithmetic(String text) {
    super(text);
  }

  /** The value of {@code expression} when it is plain integer arithmetic with exact results; empty otherwise. */
  static OptionalLong evaluate(String expression) {
    if (expression.length() > Arithmetic.MAX_LENGTH) {
      return OptionalLong.empty();
    }
    IntegerArithmetic parser = new IntegerArithmetic(expression);
    long value = parser.expr();
    parser.skipSpaces();
    return parser.failed || parser.pos != expression.length() ? OptionalLong.empty() : OptionalLong.of(value);
  }

  private long expr() {
    long value = term();
    while (!failed) {
      skipSpaces();
      if (eat('+')) {
        value = exact(value, term(), '+');
      } else if (eat('-')) {
        value = exact(value, term(), '-');
      } else {
        return value;
      }
    }
    return 0;
  }

  private long term() {
    long value = unary();
    while (!failed) {
      skipSpaces();
      if (eat('*') || eat('x') || eat('×')) {
        value = exact(value, unary(), '*');
      } else if (eat('/') || eat('÷')) {
        boolean floor = text.charAt(pos - 1) == '/' && eat('/');
        long divisor = unary();
        if (divisor == 0 || (value == Long.MIN_VALUE && divisor == -1) || (!floor && value % divisor != 0)) {
          return fail();
        }
        value = floor ? Math.floorDiv(value, divisor) : value / divisor;
      } else {
        return value;
      }
    }
    return 0;
  }

  private long unary() {
    skipSpaces();
    if (eat('-')) {
      long value = unary();
      return value == Long.MIN_VALUE ? fail() : -value;
    }
    if (eat('+')) {
      return unary();
    }
    if (eat('(')) {
      long value = expr();
      skipSpaces();
      return eat(')') ? value : fail();
    }
    return number();
  }

  /** ASCII digits, at most 18 of them; a '.', ',' or other digit after them is Arithmetic's to read. */
  private long number() {
    int start = pos;
    long value = 0;
    while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9' && pos - start < 18) {
      value = value * 10 + (text.charAt(pos) - '0');
      pos++;
    }
    if (pos == start || (pos < text.length()
        && (text.charAt(pos) == '.' || text.charAt(pos) == ',' || Character.isDigit(text.charAt(pos))))) {
      return fail();
    }
    return value;
  }

  private long exact(long a, long b, char op) {
    try {
      return switch (op) {
        case '+' -> Math.addExact(a, b);
        case '-' -> Math.subtractExact(a, b);
        default -> Math.multiplyExact(a, b);
      };
    } catch (ArithmeticException overflow) {
      return fail();
    }
  }

  private long fail() {
    failed = true;
    pos = text.length();
    return 0;
  }
}
