package io.thinkstream.trainer;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/** The trainer's console line: steps, loss per objective, pairs/s, tokens/s, policy lag, skipped steps. */
final class Progress {
  private final PrintStream out;
  private final int every;
  private long records;
  private long tokens;
  private double seconds;

  Progress(PrintStream out, int every) {
    this.out = out;
    this.every = every;
  }

  void step(long step, double loss, Map<String, Double> losses, int items, long stepTokens, double stepSeconds,
      double lag, int skippedSteps, long version) {
    records += items;
    tokens += stepTokens;
    seconds += stepSeconds;
    if (step % every != 0) {
      return;
    }
    StringBuilder parts = new StringBuilder();
    losses.forEach((k, v) -> parts.append(parts.length() == 0 ? "" : " ").append(k).append(' ')
        .append(String.format(Locale.ROOT, "%.4f", v)));
    out.printf(Locale.ROOT, "trainer: step %d loss %.4f (%s) %.1f records/s %.0f tokens/s policy lag %.1f skipped %d v%d%n",
        step, loss, parts, records / Math.max(seconds, 1e-9), tokens / Math.max(seconds, 1e-9), lag, skippedSteps, version);
    records = 0;
    tokens = 0;
    seconds = 0;
  }
}
