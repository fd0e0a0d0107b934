package io.thinkstream.streams.internal;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Stops calling an endpoint that keeps failing: after {@code threshold} failures in a row the
 * breaker opens for {@code openFor}, and calls fail fast instead of each waiting out a timeout;
 * then one call is let through (half open) and its outcome closes or reopens the breaker.
 */
public final class CircuitBreaker {
  private final int threshold;
  private final long openForMs;
  private final LongSupplier clock;
  private int failures;
  private long openUntil;
  private long opened;

  public CircuitBreaker(int threshold, Duration openFor, LongSupplier clock) {
    this.threshold = threshold;
    this.openForMs = openFor.toMillis();
    this.clock = clock;
  }

  /** Whether a call may go out now. */
  public synchronized boolean allow() {
    return clock.getAsLong() >= openUntil;
  }

  public synchronized void success() {
    failures = 0;
  }

  public synchronized void failure() {
    failures++;
    if (failures >= threshold) {
      if (clock.getAsLong() >= openUntil) {
        opened++;
      }
      openUntil = clock.getAsLong() + openForMs;
      failures = threshold - 1; // half open after the wait: one more failure reopens it
    }
  }

  /** How many times the breaker opened. */
  public synchronized long opened() {
    return opened;
  }
}
