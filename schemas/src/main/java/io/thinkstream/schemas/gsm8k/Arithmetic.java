package io.thinkstream.schemas.gsm8k;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * A safe arithmetic parser for calculator annotations: numbers (with optional thousands
 * separators and decimals), + - * / (also x, × and ÷), Python's floor division {@code //} (some
 * GSM8K annotations are written in Python), parentheses and unary minus. It evaluates nothing but
 * arithmetic — there is no code evaluator behind it. Division uses 34 significant digits.
 *
 * <pre>expr := term (('+'|'-') term)* ; term := unary (('*'|'/'|'//') unary)* ;
 * unary := '-' unary | '(' expr ')' | number</pre>
 */
public final class Arithmetic extends ExpressionText {
  private static final MathContext PRECISION = MathContext.DECIMAL128;
  static final int MAX_LENGTH = 500;

  private Arithmetic(String text) {
    super(text);
  }

  /** Evaluates {@code expression}, or throws {@link IllegalArgumentException} saying where it is malformed. */
  public static BigDecimal evaluate(String expression) {
    if (expression.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("expression longer than " + MAX_LENGTH + " characters");
    }
    Arithmetic parser = new Arithmetic(expression);
    BigDecimal value = parser.expr();
    parser.skipSpaces();
    if (parser.pos != expression.length()) {
      throw parser.error("unexpected '" + expression.charAt(parser.pos) + "'");
    }
    return value;
  }

  private BigDecimal expr() {
    BigDecimal value = term();
    while (true) {
      skipSpaces();
      if (eat('+')) {
        value = value.add(term(), PRECISION);
      } else if (eat('-')) {
        value = value.subtract(term(), PRECISION);
      } else {
        return value;
      }
    }
  }

  private BigDecimal term() {
    BigDecimal value = unary();
    while (true) {
      skipSpaces();
      if (eat('*') || eat('x') || eat('×')) {
        value = value.multiply(unary(), PRECISION);
      } else if (eat('/') || eat('÷')) {
        boolean floor = text.charAt(pos - 1) == '/' && eat('/');
        BigDecimal divisor = unary();
        if (divisor.signum() == 0) {
          throw error("division by zero");
        }
        // Python's a // b rounds towards negative infinity, also for negative and decimal operands.
        value = floor ? value.divide(divisor, 0, RoundingMode.FLOOR) : value.divide(divisor, PRECISION);
      } else {
        return value;
      }
    }
  }

  private BigDecimal unary() {
    skipSpaces();
    if (eat('-')) {
      return unary().negate();
    }
    if (eat('+')) {
      return unary();
    }
    if (eat('(')) {
      BigDecimal value = expr();
      skipSpaces();
      if (!eat(')')) {
        throw error("missing ')'");
      }
      return value;
    }
    return number();
  }

  /** Digits with at most one '.'; a ',' counts only as a thousands separator (a digit, ',', three digits). */
  private BigDecimal number() {
    int start = pos;
    while (pos < text.length() && (digitAt(pos) || text.charAt(pos) == '.' || thousandsSeparatorAt(pos))) {
      pos++;
    }
    if (start == pos) {
      throw error(pos < text.length() ? "expected a number at '" + text.charAt(pos) + "'" : "expected a number");
    }
    String digits = text.substring(start, pos).replace(",", "");
    if (!hasDigit(digits)) {
      throw error("malformed number '" + digits + "'");
    }
    try {
      return new BigDecimal(digits.startsWith(".") ? "0" + digits : digits);
    } catch (NumberFormatException e) {
      throw error("malformed number '" + digits + "'");
    }
  }

  private static boolean hasDigit(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isDigit(s.charAt(i))) {
        return true;
      }
    }
    return false;
  }

  private boolean thousandsSeparatorAt(int i) {
    return text.charAt(i) == ',' && digitAt(i - 1) && digitAt(i + 1) && digitAt(i + 2) && digitAt(i + 3)
        && !digitAt(i + 4);
  }

  private boolean digitAt(int i) {
    return i >= 0 && i < text.length() && Character.isDigit(text.charAt(i));
  }

  private IllegalArgumentException error(String message) {
    return new IllegalArgumentException(message + " at position " + pos + " of '" + text + "'");
  }
}
