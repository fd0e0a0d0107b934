package io.thinkstream.trainer;

import java.io.PrintStream;

/** A one-line training progress bar: steps, smoothed loss, tokens/s and ETA, redrawn in place. */
final class ProgressBar {
  private final PrintStream out;
  private final int total;
  private final long start = System.nanoTime();
  private long lastDraw;

  ProgressBar(PrintStream out, int total) {
    this.out = out;
    this.total = total;
  }

  void update(int step, double loss, long tokens) {
    long now = System.nanoTime();
    if (step != total && now - lastDraw < 500_000_000L) {
      return; // at most two redraws a second
    }
    lastDraw = now;
    double seconds = (now - start) / 1e9;
    double eta = seconds / step * (total - step);
    int filled = (int) (30L * step / total);
    out.printf("\r[%s%s] %d/%d loss %.3f  %.0f tok/s  ETA %dm%02ds ",
        "#".repeat(filled), ".".repeat(30 - filled), step, total, loss, tokens / Math.max(1e-9, seconds),
        (long) eta / 60, (long) eta % 60);
    out.flush();
  }

  void done() {
    out.println();
  }
}
