package io.thinkstream.streams.internal;

import java.time.Duration;

/** How often a wall-clock punctuator checks a timeout. */
final class Punctuators {
  private Punctuators() {}

  /**
   * For evictions that scan a store of large values (judged groups): a quarter of the timeout, at
   * most a minute. A scan every second decoded every open entry (whole samples) each second, which
   * cost more CPU than the samples themselves once thousands were open.
   */
  static Duration sweep(Duration timeout) {
    Duration quarter = timeout.dividedBy(4);
    return quarter.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1)
        : quarter.isZero() ? Duration.ofMillis(1) : quarter;
  }

  /** For small stores whose timeouts set latency (groups, waiting samples): a quarter of it, at most 1 s. */
  static Duration every(Duration timeout) {
    Duration quarter = timeout.dividedBy(4);
    return quarter.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1)
        : quarter.isZero() ? Duration.ofMillis(1) : quarter;
  }
}
