package io.thinkstream.producers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.avro.Problem;
import io.thinkstream.tasks.SyntheticProblems;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyntheticSourceTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);
  private final SyntheticProblems problems = new SyntheticProblems(SyntheticProblems.Settings.defaults(), 9, CLOCK);

  @Test
  void itemsAreTheFirstProblemsInIndexOrder() {
    SyntheticSource source = new SyntheticSource(problems, 25);
    assertEquals(25, source.expectedCount());
    assertEquals("synthetic(seed=9)", source.name());
    List<Problem> items = source.items().map(item -> ((ProblemSource.Item.Good) item).problem()).toList();
    assertEquals(problems.first(25), items);
    assertEquals(0, new SyntheticSource(problems, 0).items().count());
  }

  @Test
  void aNegativeCountIsRejectedWithTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SyntheticSource(problems, -1));
    assertTrue(e.getMessage().contains("got -1"), e.getMessage());
  }
}
