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

  /** Word ids shared by the texts of one comparison batch: 0, 1, 2, ... in order of first sight. */
  public static final class Vocabulary {
    private final Map<String, Integer> ids = new HashMap<>();

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
        while (i < length && !isSpace(text.charAt(i))) {
          i++;
        }
        if (i > start) {
          if (n == out.length) {
            out = Arrays.copyOf(out, n * 2);
          }
          Integer id = ids.putIfAbsent(text.substring(start, i), ids.size());
          out[n++] = id == null ? ids.size() - 1 : id;
        }
      }
      return Arrays.copyOf(out, n);
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
   */
  public static final class Query {
    private final int m;
    private final int blocks;
    private final int alphabet;
    /** Match masks: bit i of block b of {@code peq[id * blocks + b]} is set when x[64b + i] == id. */
    private final long[] peq;
    private final long[] pv;
    private final long[] mv;

    public Query(int[] x) {
      m = x.length;
      blocks = Math.max(1, (m + 63) / 64);
      int max = -1;
      for (int id : x) {
        max = Math.max(max, id);
      }
      alphabet = max + 1;
      peq = new long[alphabet * blocks];
      for (int i = 0; i < m; i++) {
        peq[x[i] * blocks + i / 64] |= 1L << (i % 64);
      }
      pv = new long[blocks];
      mv = new long[blocks];
    }

    /** The Levenshtein distance from this query's sequence to {@code y}. */
    public int distance(int[] y) {
      if (m == 0 || y.length == 0) {
        return m + y.length;
      }
      Arrays.fill(pv, -1L);
      Arrays.fill(mv, 0L);
      long lastBit = 1L << ((m - 1) % 64);
      int score = m;
      for (int c : y) {
        int base = c < alphabet ? c * blocks : -1; // a word absent from x matches nowhere
        int hin = 1; // row 0 of the table is 0, 1, 2, ...: each column adds one
        for (int b = 0; b < blocks; b++) {
          long eq = base < 0 ? 0L : peq[base + b];
          long p = pv[b];
          long mm = mv[b];
          long xv = eq | mm;
          if (hin < 0) {
            eq |= 1L;
          }
          long xh = (((eq & p) + p) ^ p) | eq;
          long ph = mm | ~(xh | p);
          long mh = p & xh;
          long high = b == blocks - 1 ? lastBit : 1L << 63;
          int hout = (ph & high) != 0 ? 1 : (mh & high) != 0 ? -1 : 0;
          ph <<= 1;
          mh <<= 1;
          if (hin < 0) {
            mh |= 1L;
          } else if (hin > 0) {
            ph |= 1L;
          }
          pv[b] = mh | ~(xv | ph);
          mv[b] = ph & xv;
          hin = hout;
        }
        score += hin;
      }
      return score;
    }
  }
}
