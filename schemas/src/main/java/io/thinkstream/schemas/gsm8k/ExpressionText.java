package io.thinkstream.schemas.gsm8k;

/**
 * An arithmetic expression being read left to right: its text, the position reached, and the two
 * moves both annotation parsers ({@link Arithmetic}, {@link IntegerArithmetic}) make on it.
 */
abstract class ExpressionText {
  final String text;
  int pos;

  ExpressionText(String text) {
    this.text = text;
  }

  /** Steps over {@code c} when it comes next. */
  final boolean eat(char c) {
    if (pos < text.length() && text.charAt(pos) == c) {
      pos++;
      return true;
    }
    return false;
  }

  final void skipSpaces() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }
}
