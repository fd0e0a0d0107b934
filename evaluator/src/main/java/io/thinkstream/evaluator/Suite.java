package io.thinkstream.evaluator;

import io.thinkstream.avro.Problem;
import io.thinkstream.producers.JsonlProblems;
import io.thinkstream.producers.ProblemSource;
import io.thinkstream.tasks.SyntheticProblems;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A held-out suite: a name (the {@code suite} of its evaluations) and fixed problems with gold
 * answers. Built once at start, so every checkpoint is scored on exactly the same problems.
 */
public record Suite(String name, List<Problem> problems) {
  public Suite {
    problems = List.copyOf(problems);
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("suite '" + name + "' has no problems");
    }
  }

  /** The suites {@code settings} names, in order; {@code synthetic} describes the synthetic problems. */
  public static List<Suite> of(EvaluatorConfig.Settings settings, SyntheticProblems.Settings synthetic) {
    List<Suite> out = new ArrayList<>();
    for (String name : settings.suites()) {
      out.add(switch (name) {
        case "synthetic" -> synthetic(synthetic, settings.syntheticSeed(), settings.syntheticSize());
        case "gsm8k" -> gsm8k(settings.gsm8kFile(), settings.gsm8kSize());
        default -> throw new IllegalArgumentException("unknown suite '" + name + "' (synthetic, gsm8k)");
      });
    }
    return out;
  }

  /** {@code n} synthetic problems of {@code seed}: the same seed gives the same suite every run. */
  public static Suite synthetic(SyntheticProblems.Settings settings, long seed, int n) {
    return new Suite("synthetic", new SyntheticProblems(settings, seed, Clock.systemUTC()).first(n));
  }

  /** The first {@code n} good problems of a GSM8K-format JSONL file (bad lines are skipped). */
  public static Suite gsm8k(Path file, int n) {
    List<Problem> out = new ArrayList<>(n);
    try (Stream<ProblemSource.Item> items = new JsonlProblems(file, 1 << 20, Clock.systemUTC()).items()) {
      for (var it = items.iterator(); it.hasNext() && out.size() < n; ) {
        if (it.next() instanceof ProblemSource.Item.Good good && good.problem().getGoldAnswer() != null) {
          out.add(good.problem());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the gsm8k suite " + file.toAbsolutePath() + ": " + e.getMessage(), e);
    }
    return new Suite("gsm8k", out);
  }
}
