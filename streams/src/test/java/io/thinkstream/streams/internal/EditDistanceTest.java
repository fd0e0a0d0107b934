package io.thinkstream.streams.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The bit-parallel distance against the textbook dynamic programme, across block boundaries. */
class EditDistanceTest {
  private static int reference(int[] x, int[] y) {
    int[][] d = new int[x.length + 1][y.length + 1];
    for (int i = 0; i <= x.length; i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= y.length; j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= x.length; i++) {
      for (int j = 1; j <= y.length; j++) {
        d[i][j] = Math.min(d[i - 1][j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1), Math.min(d[i - 1][j], d[i][j - 1]) + 1);
      }
    }
    return d[x.length][y.length];
  }

  @Test
  void matchesTheDynamicProgramme() {
    Random random = new Random(5);
    for (int trial = 0; trial < 2000; trial++) {
      int[] x = random.ints(random.nextInt(200), 0, 1 + random.nextInt(6)).toArray();
      int[] y = random.ints(random.nextInt(200), 0, 1 + random.nextInt(6)).toArray();
      assertEquals(reference(x, y), EditDistance.distance(x, y), "trial " + trial);
    }
    int[] a = random.ints(130, 0, 3).toArray();
    assertEquals(0, EditDistance.distance(a, a.clone()));
  }

  @Test
  void oneQueryAgainstManySequences() {
    Random random = new Random(7);
    int[] x = random.ints(150, 0, 5).toArray();
    EditDistance.Query query = new EditDistance.Query(x);
    for (int trial = 0; trial < 200; trial++) {
      int[] y = random.ints(random.nextInt(200), 0, 8).toArray(); // ids 5..7 never occur in x
      assertEquals(reference(x, y), query.distance(y), "trial " + trial);
    }
  }

  /** {@code x} after {@code edits} random substitutions, deletions and insertions of ids below {@code alphabet}. */
  private static int[] edited(Random random, int[] x, int edits, int alphabet) {
    List<Integer> out = new ArrayList<>();
    for (int id : x) {
      out.add(id);
    }
    for (int e = 0; e < edits; e++) {
      int op = random.nextInt(3);
      if (op == 0 && !out.isEmpty()) {
        out.set(random.nextInt(out.size()), random.nextInt(alphabet));
      } else if (op == 1 && !out.isEmpty()) {
        out.remove(random.nextInt(out.size()));
      } else {
        out.add(random.nextInt(out.size() + 1), random.nextInt(alphabet));
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  @Test
  void nearDuplicatesInOneBandedPassAndFarOnesInTwo() {
    // near-duplicates (a few edits of x) fit the first band; shuffled or unrelated sequences need the second pass
    Random random = new Random(11);
    for (int trial = 0; trial < 3000; trial++) {
      int alphabet = 1 + random.nextInt(trial % 3 == 0 ? 4 : 400);
      int[] x = random.ints(1 + random.nextInt(400), 0, alphabet).toArray();
      int[] y = trial % 4 == 0 ? random.ints(random.nextInt(400), 0, alphabet + 2).toArray()
          : edited(random, x, random.nextInt(1 + random.nextInt(200)), alphabet + 2);
      assertEquals(reference(x, y), new EditDistance.Query(x).distance(y), "trial " + trial);
    }
  }

  @Test
  void aBandIsExactWhenTheDistanceFitsAndAnUpperBoundWhenNot() {
    Random random = new Random(13);
    for (int trial = 0; trial < 3000; trial++) {
      int[] x = random.ints(1 + random.nextInt(300), 0, 50).toArray();
      int[] y = edited(random, x, random.nextInt(150), 52);
      int d = reference(x, y);
      EditDistance.Query query = new EditDistance.Query(x);
      int k = Math.max(Math.abs(x.length - y.length), random.nextInt(300));
      int banded = query.banded(y, k);
      if (d <= k) {
        assertEquals(d, banded, "trial " + trial + ", band " + k);
      } else {
        assertTrue(banded > k && banded >= d, "trial " + trial + ": band " + k + " gave " + banded + " for " + d);
      }
      assertTrue(query.lowerBound(y) <= d, "trial " + trial);
    }
  }

  @Test
  void wordsSplitLikeRegexWhitespaceAfterStrip() {
    EditDistance.Vocabulary v = new EditDistance.Vocabulary();
    assertEquals(0, v.words("  \t\n ").length);
    assertEquals(3, v.words("\u2003a\tb\r\n\u000Bc\f").length);
    assertEquals(1, v.words("a\u00A0b").length); // no-break space is not regex \\s: one word
  }

  @Test
  void vocabularyGivesEachDistinctWordOneIdAcrossTexts() {
    // enough words to grow the table several times, and words of equal hash ("Aa" and "BB")
    EditDistance.Vocabulary v = new EditDistance.Vocabulary();
    StringBuilder first = new StringBuilder("Aa BB ");
    for (int i = 0; i < 3000; i++) {
      first.append("w").append(i).append(' ');
    }
    int[] a = v.words(first.toString());
    int[] b = v.words("w2999 BB x Aa w0 x");
    assertEquals(3002, a.length);
    for (int i = 0; i < a.length; i++) {
      assertEquals(i, a[i]); // ids in order of first sight
    }
    assertArrayEquals(new int[] {3001, 1, 3002, 0, 2, 3002}, b);
  }

  @Test
  void words() {
    assertEquals(0, EditDistance.words("a b c", "a  b c"));
    assertEquals(1, EditDistance.words("a b c", "a x c"));
    assertEquals(3, EditDistance.words("", "a b c"));
  }
}
