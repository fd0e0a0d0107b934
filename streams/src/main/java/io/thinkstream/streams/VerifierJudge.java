package io.thinkstream.streams;

import io.thinkstream.schemas.text.FinalAnswer;
import java.util.Optional;

/**
 * The rule-based judge: 1 when the response's final answer equals the gold answer, 0 when it
 * does not, unparseable when the response states no answer (a last-number guess is not one) or
 * the problem has no gold answer.
 */
public final class VerifierJudge implements Judge {
  @Override
  public String id() {
    return "verifier";
  }

  @Override
  public Judgement judge(String prompt, String response, Optional<String> gold) {
    FinalAnswer answer = FinalAnswer.extract(response);
    if (gold.isEmpty() || answer.value().isEmpty() || !answer.stated()) {
      return new Unparseable(response);
    }
    return new Scored(answer.matches(gold.get()) ? 1.0 : 0.0);
  }
}
