package io.thinkstream.streams.internal;

import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.schemas.text.FinalAnswer;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Outcome verification (ARCHITECTURE.md): the final answer compared with the gold answer, and
 * every GSM8K calculator annotation {@code <<expr=value>>} of the reasoning recomputed with the
 * safe arithmetic parser of {@code schemas} (no code is ever evaluated). Correctness is the final
 * answer alone; annotation errors are reported beside it.
 */
public final class Verifier {
  private Verifier() {}

  /** The verdict on one solution. */
  public record Verdict(boolean correct, FinalAnswer answer, int annotations, int annotationsOk,
      List<String> errors) {
    /** Reward details: how the answer was found and what the annotations said. */
    public Map<String, String> details() {
      Map<String, String> d = new LinkedHashMap<>();
      d.put("extracted", answer.text());
      d.put("method", answer.method().name());
      if (!answer.stated()) {
        d.put("unparseable", "no stated final answer ('#### X' or 'the answer is X'): never counted correct");
      }
      d.put("annotations", String.valueOf(annotations));
      d.put("annotationsOk", String.valueOf(annotationsOk));
      if (!errors.isEmpty()) {
        d.put("annotationErrors", String.join("; ", errors));
      }
      return d;
    }
  }

  /** Verifies reasoning {@code steps} followed by {@code answer} text against {@code gold}. */
  public static Verdict verify(List<String> steps, String answer, String gold) {
    String reasoning = String.join("\n", steps);
    FinalAnswer fin = finalAnswer(reasoning, answer);
    Gsm8kSolution.Check check = Gsm8kSolution.parse(reasoning).check(Optional.empty());
    List<String> annotationErrors = check.errors().stream()
        .filter(e -> e.startsWith("step "))
        .toList();
    return new Verdict(fin.matches(gold), fin, check.annotations(), check.annotationsOk(), annotationErrors);
  }

  /**
   * {@link FinalAnswer#extract} of reasoning and answer together. The last {@code ####} line wins
   * wherever it is, so when the answer part has one, which is the usual case, the 2 KB of
   * reasoning before it need not be scanned: scanning them was a fifth of the verifier's time.
   */
  private static FinalAnswer finalAnswer(String reasoning, String answer) {
    FinalAnswer inAnswer = FinalAnswer.extract(answer);
    return inAnswer.method() == FinalAnswer.Method.HASHES ? inAnswer : FinalAnswer.extract(reasoning + "\n" + answer);
  }

  /** Verifies a whole completion (reasoning lines and answer, split by {@link PromptFormat}) against {@code gold}. */
  public static Verdict verify(String completion, String gold) {
    PromptFormat.Completion c = PromptFormat.split(completion);
    return verify(c.steps(), c.answer(), gold);
  }
}
