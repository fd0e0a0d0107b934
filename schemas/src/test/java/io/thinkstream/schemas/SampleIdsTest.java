package io.thinkstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SampleIdsTest {
  @Test
  void theIdIsAFunctionOfItsFourInputs() {
    String id = SampleIds.of("p1", 3, "<think2>", 11);
    assertEquals(id, SampleIds.of("p1", 3, "<think2>", 11));
    assertTrue(id.matches("s-[0-9a-f]{32}"), id);
    assertNotEquals(id, SampleIds.of("p2", 3, "<think2>", 11));
    assertNotEquals(id, SampleIds.of("p1", 4, "<think2>", 11));
    assertNotEquals(id, SampleIds.of("p1", 3, "<think1>", 11));
    assertNotEquals(id, SampleIds.of("p1", 3, null, 11));
    assertNotEquals(id, SampleIds.of("p1", 3, "<think2>", 12));
  }

  @Test
  void fieldsDoNotRunIntoEachOther() {
    assertNotEquals(SampleIds.of("p1", 12, null, 3), SampleIds.of("p11", 2, null, 3));
  }

  @Test
  void seedsAreStableDistinctAndNonNegative() {
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      long s = SampleIds.seed(7, "p1", i);
      assertEquals(s, SampleIds.seed(7, "p1", i));
      assertTrue(s >= 0);
      seen.add(s);
    }
    assertEquals(1000, seen.size());
    assertNotEquals(SampleIds.seed(7, "p1", 0), SampleIds.seed(8, "p1", 0));
  }
}
