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
      peq = new long[(alphabet + 1) * blocks];
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
      int last = blocks - 1;
      int lastShift = (m - 1) % 64; // the query's last row sits inside the last block
      int score = m;
      for (int c : y) {
        int base = Math.min(c, alphabet) * blocks;
        int hin = 1; // row 0 of the table is 0, 1, 2, ...: each column adds one
        for (int b = 0; b < last; b++) {
          hin = advance(b, peq[base + b], hin, 63);
        }
        score += advance(last, peq[base + last], hin, lastShift);
      }
      return score;
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
