package io.thinkstream.streams.internal;

import io.thinkstream.streams.avro.GradedSample;
import java.util.List;

/** How a sample's parts are laid out as trainer text: reasoning steps one per line, then the answer. */
public final class Completion {
  private Completion() {}

  /** The sample's full completion (everything after the prompt). */
  public static String of(GradedSample sample) {
    return join(sample.getSteps(), sample.getAnswer());
  }

  public static String join(List<String> steps, String answer) {
    String reasoning = String.join("\n", steps);
    return answer.isBlank() ? reasoning : reasoning.isEmpty() ? answer : reasoning + "\n" + answer;
  }

  /** The prompt followed by the sample's first {@code steps} steps: the first-pit prefix. */
  public static String prefix(GradedSample sample, int steps) {
    StringBuilder b = new StringBuilder(sample.getPrompt());
    for (String step : sample.getSteps().subList(0, steps)) {
      b.append('\n').append(step);
    }
    return b.toString();
  }
}
