package io.thinkstream.streams.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  @Test
  void opensAfterThresholdFailuresLetsOneCallThroughAfterTheWaitAndClosesOnSuccess() {
    AtomicLong now = new AtomicLong();
    CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofSeconds(10), now::get);
    breaker.failure();
    breaker.failure();
    assertTrue(breaker.allow());
    breaker.failure();
    assertFalse(breaker.allow(), "open after 3 failures in a row");
    assertEquals(1, breaker.opened());
    now.set(10_000);
    assertTrue(breaker.allow(), "half open after the wait");
    breaker.failure();
    assertFalse(breaker.allow(), "one more failure reopens it");
    assertEquals(2, breaker.opened());
    now.set(20_000);
    breaker.success();
    breaker.failure();
    assertTrue(breaker.allow(), "a success closed it: one failure is not enough");
  }
}
