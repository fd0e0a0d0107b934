package io.thinkstream.schemas.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The one text format of the loop: how a problem becomes the text a policy continues, and how a
 * completion splits back into reasoning steps and an answer. The sampler, the rewards service,
 * SFT, the trainer and the evaluator all go through this class, so a prompt trained on is the
 * prompt sampled from and a step the rewards service explores is a step the sampler wrote.
 *
 * <p>A single-turn sequence is {@code <bos>} + {@link #prompt}(question, tag) + completion +
 * {@code <eos>}, where the prompt is the question, a newline and the strategy tag (SSFT's global
 * forking token, {@code <think1>}…{@code <thinkN>}, absent when untagged), and the completion is
 * the reasoning steps one per line followed by the answer line ({@code #### 72} or
 * {@code The answer is 72.}). Special tokens other than the tag are the tokenizer's business.
 *
 * <p>A multi-turn conversation lays every turn out as {@link #human}(question), then the turn's
 * tag and reasoning (which later turns never see), then its answer and {@code <eos>}. The context
 * a turn is answered in therefore holds the earlier questions and answers only.
 */
public final class PromptFormat {
  private static final String TAG_PREFIX = "<think";

  private PromptFormat() {}

  /** Reasoning steps and the answer line of one completion. */
  public record Completion(List<String> steps, String answer) {
    public Completion {
      steps = List.copyOf(steps);
      answer = answer == null ? "" : answer;
    }

    /** The completion as text: {@link PromptFormat#completion}. */
    public String text() {
      return completion(steps, answer);
    }
  }

  /** The strategy tag that selects strategy {@code i}, 1-based: {@code <think1>}. */
  public static String tag(int i) {
    if (i < 1) {
      throw new IllegalArgumentException("strategy tags are numbered from 1, got " + i);
    }
    return TAG_PREFIX + i + ">";
  }

  /** The tags {@code <think1>}…{@code <thinkN>}; empty for n = 0. */
  public static List<String> tags(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("the number of strategy tags must be >= 0, got " + n);
    }
    List<String> out = new ArrayList<>(n);
    for (int i = 1; i <= n; i++) {
      out.add(tag(i));
    }
    return out;
  }

  /** The number of a tag ({@code <think3>} is 3), or empty when {@code text} is not a strategy tag. */
  public static OptionalInt tagIndex(String text) {
    if (text == null || !text.startsWith(TAG_PREFIX) || !text.endsWith(">")) {
      return OptionalInt.empty();
    }
    String digits = text.substring(TAG_PREFIX.length(), text.length() - 1);
    if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(Character::isDigit) || digits.startsWith("0")) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(Integer.parseInt(digits));
  }

  /** A human turn as the policy reads it: the question and a newline. */
  public static String human(String question) {
    return question + "\n";
  }

  /** The text a single-turn completion continues: the question, a newline, then the tag if any. */
  public static String prompt(String question, String tag) {
    return tag == null ? human(question) : human(question) + tag;
  }

  /**
   * The question of {@code prompt} = {@link #prompt}(question, tag): its inverse, used where only
   * the prompt text travels (an SFT example) and the turn must be laid out again. Empty when
   * {@code prompt} is not such a prompt.
   */
  public static Optional<String> question(String prompt, String tag) {
    String untagged = prompt;
    if (tag != null) {
      if (!prompt.endsWith(tag)) {
        return Optional.empty();
      }
      untagged = prompt.substring(0, prompt.length() - tag.length());
    }
    return untagged.endsWith("\n") ? Optional.of(untagged.substring(0, untagged.length() - 1)) : Optional.empty();
  }

  /** Reasoning steps as the policy writes them: each step followed by a newline. */
  public static String reasoning(List<String> steps) {
    StringBuilder b = new StringBuilder();
    for (String step : steps) {
      b.append(step).append('\n');
    }
    return b.toString();
  }

  /** A completion: the steps one per line, then the answer (no trailing newline after the last line). */
  public static String completion(List<String> steps, String answer) {
    String reasoning = String.join("\n", steps);
    return answer.isBlank() ? reasoning : reasoning.isEmpty() ? answer : reasoning + "\n" + answer;
  }

  /** The prompt followed by {@code steps}: the text a first-pit exploration continues. */
  public static String prefix(String prompt, List<String> steps) {
    return prompt + reasoning(steps);
  }

  /**
   * Splits a completion into its steps (non-blank lines, stripped) and its answer: the last line
   * when it states a final answer ({@code #### X} or "the answer is X", by {@link FinalAnswer}),
   * otherwise empty, so a completion cut off mid-reasoning keeps every line as a step.
   */
  public static Completion split(String completion) {
    List<String> lines = new ArrayList<>();
    for (String line : completion.split("\\R")) {
      if (!line.isBlank()) {
        lines.add(line.strip());
      }
    }
    if (!lines.isEmpty()) {
      String last = lines.get(lines.size() - 1);
      FinalAnswer.Method method = FinalAnswer.extract(last).method();
      if (method == FinalAnswer.Method.HASHES || method == FinalAnswer.Method.ANSWER_IS) {
        return new Completion(lines.subList(0, lines.size() - 1), last);
      }
    }
    return new Completion(lines, "");
  }
}
