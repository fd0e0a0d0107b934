package io.thinkstream.streams.internal;

import java.time.Duration;

/** How often a wall-clock punctuator checks a timeout: a quarter of it, between 1 ms and 1 s. */
final class Punctuators {
  private Punctuators() {}

  static Duration every(Duration timeout) {
    Duration quarter = timeout.dividedBy(4);
    return quarter.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1)
        : quarter.isZero() ? Duration.ofMillis(1) : quarter;
  }
}
