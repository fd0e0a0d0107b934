package io.thinkstream.streams.internal;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Levenshtein distance over whitespace-separated words. Words, not characters: two 2 KB samples
 * cost ~350² cells instead of ~2000², and a word-level distance tracks "a different solution
 * path" as well as a character-level one. Words are mapped to dense ints once per text through a
 * shared {@link Vocabulary}, so the quadratic loop compares ints, not strings (pairing profiles
 * showed {@code String.equals} as nearly all of its time), and the match masks of one side are an
 * array indexed by word id, built once per {@link Query} and reused against every other side.
 */
public final class EditDistance {
  private EditDistance() {}

  /**
   * Word ids shared by the texts of one comparison batch: 0, 1, 2, ... in order of first sight.
   * An open-addressing table over the words' places in their texts, not a {@code Map<String,
   * Integer>}: no substring is made per word, and a group's eight 2 KB texts cost a quarter of
   * what the map did.
   */
  public static final class Vocabulary {
    private int[] table = new int[1024]; // slot -> id + 1; 0 is empty
    private String[] texts = new String[256]; // id -> the text of the word's first occurrence
    private int[] starts = new int[256];
    private int[] lengths = new int[256];
    private int[] hashes = new int[256];
    private int size;

    /** The ids of the words of {@code text}: stripped, then split at runs of regex {@code \\s}. */
    public int[] words(String text) {
      text = text.strip();
      int[] out = new int[16];
      int n = 0;
      int length = text.length();
      int i = 0;
      while (i < length) {
        while (i < length && isSpace(text.charAt(i))) {
          i++;
        }
        int start = i;
        int hash = 0;
        for (char c; i < length && !isSpace(c = text.charAt(i)); i++) {
          hash = 31 * hash + c;
        }
        if (i > start) {
          if (n == out.length) {
            out = Arrays.copyOf(out, n * 2);
          }
          out[n++] = id(text, start, i - start, hash);
        }
      }
      return Arrays.copyOf(out, n);
    }

    private int id(String text, int start, int length, int hash) {
      int mask = table.length - 1;
      for (int slot = spread(hash) & mask; ; slot = (slot + 1) & mask) {
        int entry = table[slot];
        if (entry == 0) {
          table[slot] = add(text, start, length, hash) + 1;
          if (size * 2 > table.length) {
            rehash();
          }
          return size - 1;
        }
        int id = entry - 1;
        if (hashes[id] == hash && lengths[id] == length && texts[id].regionMatches(starts[id], text, start, length)) {
          return id;
        }
      }
    }

    private int add(String text, int start, int length, int hash) {
      if (size == texts.length) {
        texts = Arrays.copyOf(texts, size * 2);
        starts = Arrays.copyOf(starts, size * 2);
        lengths = Arrays.copyOf(lengths, size * 2);
        hashes = Arrays.copyOf(hashes, size * 2);
      }
      texts[size] = text;
      starts[size] = start;
      lengths[size] = length;
      hashes[size] = hash;
      return size++;
    }

    private void rehash() {
      table = new int[table.length * 2];
      int mask = table.length - 1;
      for (int id = 0; id < size; id++) {
        int slot = spread(hashes[id]) & mask;
        while (table[slot] != 0) {
          slot = (slot + 1) & mask;
        }
        table[slot] = id + 1;
      }
    }

    /** Mixes the high bits of a string hash into the low ones that pick the slot. */
    private static int spread(int hash) {
      int h = hash * 0x9E3779B9;
      return h ^ (h >>> 16);
    }

    /** The characters that regex {@code \s} matches: a word separator. */
    private static boolean isSpace(char c) {
      return c == ' ' || (c >= '\t' && c <= '\r');
    }
  }

  public static int words(String a, String b) {
    Vocabulary v = new Vocabulary();
    return distance(v.words(a), v.words(b));
  }

  public static int distance(int[] x, int[] y) {
    return new Query(x).distance(y);
  }

  /**
   * One side {@code x} prepared for Myers' bit-parallel algorithm (blocks of 64 pattern positions,
   * Myers 1999, global-distance form): O(|x|·|y|/64) word operations per comparison instead of
   * |x|·|y| cells, which is what makes outcome pairing of 2 KB samples cheap. Word ids must be
   * non-negative (a {@link Vocabulary}'s are).
   *
   * <p>Samples of one problem often share most of their words, and then only a diagonal band of
   * the table can hold an optimal alignment (Ukkonen 1985): a cell (i, j) lies on an alignment of
   * cost at most k only if |i - j| + |(m - i) - (n - j)| &lt;= k, so only the blocks that meet that
   * band are computed. The band is sized from a lower bound of the distance (the words the two
   * sides do not share as multisets) plus a margin; when the distance turns out larger, the banded
   * pass still yields an upper bound of it, and a second pass with that bound as its band is exact.
   * On the bench's near-duplicate samples this computes 2 of 6 blocks per column.
   */
  public static final class Query {
    private final int m;
    private final int blocks;
    private final int alphabet;
    /**
     * Match masks: bit i of block b of {@code peq[id * blocks + b]} is set when x[64b + i] == id;
     * the blocks of id {@code alphabet} are all zero, for words absent from x.
     */
    private final long[] peq;
    /** How often each word id occurs in x, and a copy of it that a lower bound counts down. */
    private final int[] counts;
    private final int[] remaining;
    private final long[] pv;
    private final long[] mv;
    /** Per block, the table's value at the block's last row (row m for the last block) in the current column. */
    private final int[] bottom;

    public Query(int[] x) {
      m = x.length;
      blocks = Math.max(1, (m + 63) / 64);
      int max = -1;
      for (int id : x) {
        max = Math.max(max, id);
      }
      alphabet = max + 1;
      peq = new long[(alphabet + 1) * blocks];
      counts = new int[alphabet];
      for (int i = 0; i < m; i++) {
        peq[x[i] * blocks + i / 64] |= 1L << (i % 64);
        counts[x[i]]++;
      }
      remaining = new int[alphabet];
      pv = new long[blocks];
      mv = new long[blocks];
      bottom = new int[blocks];
    }

    /** The Levenshtein distance from this query's sequence to {@code y}. */
    public int distance(int[] y) {
      int lower = lowerBound(y);
      int band = lower + Math.max(8, lower / 4); // a quarter above the bound: most near-duplicates fit in one pass
      if (band >= Math.max(m, y.length)) {
        return banded(y, Integer.MAX_VALUE); // the band would cover the whole table anyway
      }
      int d = banded(y, band);
      return d <= band ? d : banded(y, d);
    }

    /**
     * max(|x|, |y|) minus the words x and y share as multisets: an alignment matches at most that
     * many words, and each of the longer side's other words costs at least one edit.
     */
    int lowerBound(int[] y) {
      System.arraycopy(counts, 0, remaining, 0, alphabet);
      int common = 0;
      for (int id : y) {
        if (id < alphabet && remaining[id] > 0) {
          remaining[id]--;
          common++;
        }
      }
      return Math.max(m, y.length) - common;
    }

    /**
     * The distance to {@code y} when it is at most {@code k}; otherwise a value above {@code k}
     * that is still at least the distance. Only the rows i with |i - j| + |(m - i) - (n - j)| &lt;= k
     * are computed in column j, rounded out to whole blocks. Cells outside enter the band only as
     * over-estimates (a block's top is fed a horizontal step of +1, a block that joins the band
     * starts from vertical steps of +1), so every value is at least the true one, and exact along
     * an optimal alignment that stays inside the band, as any alignment of cost at most k does.
     */
    int banded(int[] y, int k) {
      int n = y.length;
      if (m == 0 || n == 0) {
        return m + n;
      }
      int diff = n - m;
      long slack = Math.max(0, ((long) k - Math.abs(diff)) / 2);
      long lowestStep = Math.min(0, diff) - slack; // band: j - i between these two
      long highestStep = Math.max(0, diff) + slack;
      int lastBlock = blocks - 1;
      int lastShift = (m - 1) % 64; // the query's last row sits inside the last block
      int first = 0;
      int last = -1;
      long joinAt = 1; // the column where block last + 1 enters the band: its first row is j - lowestStep
      long leaveAt = 64L + 1 + highestStep; // the column where block first leaves it: its last row is j - highestStep - 1
      for (int j = 1; j <= n; j++) {
        while (j >= joinAt && last < lastBlock) {
          last++;
          pv[last] = -1L; // the previous column's values: the block above's last row, then +1 per row
          mv[last] = 0L;
          bottom[last] = (last == 0 ? j - 1 : bottom[last - 1]) + (last == lastBlock ? m - 64 * last : 64);
          joinAt = 64L * (last + 1) + 1 + lowestStep;
        }
        if (j >= leaveAt && first < last) {
          first++;
          leaveAt = 64L * (first + 1) + 1 + highestStep;
        }
        int base = Math.min(y[j - 1], alphabet) * blocks;
        int hin = 1; // row 0 of the table is 0, 1, 2, ...: each column adds one (above the band: at most one)
        int full = last == lastBlock ? last - 1 : last;
        for (int b = first; b <= full; b++) {
          hin = advance(b, peq[base + b], hin, 63);
          bottom[b] += hin;
        }
        if (last == lastBlock) {
          bottom[last] += advance(last, peq[base + last], hin, lastShift);
        }
      }
      return bottom[lastBlock];
    }

    /**
     * One column step of block {@code b}, without branches: {@code hin} (-1, 0 or 1) is the
     * horizontal delta entering the block's top, the result the delta leaving row
     * {@code 64b + shift}.
     */
    private int advance(int b, long eq, int hin, int shift) {
      long p = pv[b];
      long mm = mv[b];
      long hinNegative = hin >>> 31; // 1 when hin is -1
      long hinPositive = (hin + 1) >> 1; // 1 when hin is 1
      long xv = eq | mm;
      eq |= hinNegative;
      long xh = (((eq & p) + p) ^ p) | eq;
      long ph = mm | ~(xh | p);
      long mh = p & xh;
      int hout = (int) ((ph >>> shift) & 1L) - (int) ((mh >>> shift) & 1L);
      ph = (ph << 1) | hinPositive;
      mh = (mh << 1) | hinNegative;
      pv[b] = mh | ~(xv | ph);
      mv[b] = ph & xv;
      return hout;
    }
  }
}
