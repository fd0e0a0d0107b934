package io.thinkstream.streams.internal;

/**
 * Levenshtein distance over whitespace-separated words. Words, not characters: two 2 KB samples
 * cost ~350² cells instead of ~2000², which keeps outcome pairing cheap at K samples per problem,
 * and a word-level distance tracks "a different solution path" as well as a character-level one.
 */
public final class EditDistance {
  private EditDistance() {}

  public static int words(String a, String b) {
    String[] x = a.isBlank() ? new String[0] : a.strip().split("\\s+");
    String[] y = b.isBlank() ? new String[0] : b.strip().split("\\s+");
    int[] prev = new int[y.length + 1];
    int[] cur = new int[y.length + 1];
    for (int j = 0; j <= y.length; j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= x.length; i++) {
      cur[0] = i;
      for (int j = 1; j <= y.length; j++) {
        int substitute = prev[j - 1] + (x[i - 1].equals(y[j - 1]) ? 0 : 1);
        cur[j] = Math.min(substitute, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[y.length];
  }
}
