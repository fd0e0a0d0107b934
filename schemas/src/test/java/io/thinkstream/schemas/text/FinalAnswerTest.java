package io.thinkstream.schemas.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.schemas.text.FinalAnswer.Method;
import org.junit.jupiter.api.Test;

class FinalAnswerTest {
  @Test
  void extractsByHashesThenAnswerIsThenLastNumber() {
    assertEquals(Method.HASHES, FinalAnswer.extract("3 apples\nThe answer is 5\n#### 7").method());
    assertTrue(FinalAnswer.extract("3 apples\nThe answer is 5\n#### 7").matches("7"));
    FinalAnswer answerIs = FinalAnswer.extract("He has 3. So the answer is $1,250.");
    assertEquals(Method.ANSWER_IS, answerIs.method());
    assertTrue(answerIs.matches("1250"));
    FinalAnswer last = FinalAnswer.extract("2 and 3 make 5 apples");
    assertEquals(Method.LAST_NUMBER, last.method());
    assertEquals("5", last.text(), "the guess is reported");
    assertFalse(last.matches("5"), "a last-number guess is never correct");
    assertFalse(last.stated());
    assertEquals(Method.NONE, FinalAnswer.extract("no numbers here").method());
  }

  @Test
  void normalisesSeparatorsCurrencyPercentDecimalsAndFractions() {
    assertTrue(FinalAnswer.extract("#### $1,000,000").matches("1000000"));
    assertTrue(FinalAnswer.extract("#### 50%").matches("50"));
    assertTrue(FinalAnswer.extract("#### 2.50").matches("2.5"));
    assertTrue(FinalAnswer.extract("#### 3/4").matches("0.75"));
    assertTrue(FinalAnswer.extract("#### 18 dollars.").matches("18"));
    assertTrue(FinalAnswer.extract("The answer is: -4").matches("-4"));
    assertTrue(FinalAnswer.extract("The answer is 1/3").matches("0.333333"));
    assertFalse(FinalAnswer.extract("#### 19").matches("18"));
    assertFalse(FinalAnswer.extract("#### 1/0").matches("0"));
  }
}
