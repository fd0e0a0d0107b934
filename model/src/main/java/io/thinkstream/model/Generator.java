package io.thinkstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.thinkstream.model.internal.TokenSampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batched sampling from the policy with a KV cache: one forward pass over the (left-padded)
 * prompts, then one token per step. Each request carries its own seed, and tokens are drawn in
 * Java from that request's RNG, so the same seed and batch give the same continuation.
 *
 * <p>Prompts are left-padded so every row's next token sits in the same column; padding is hidden
 * by the mask and position ids count real tokens only, so padding does not change what a row sees.
 */
public final class Generator {
  /** A prompt (token ids, specials included as the caller wants them) and its sampling seed. */
  public record Request(int[] prompt, long seed) {
    /** {@code body} after the tokenizer's bos, or alone when it has none (bosId() < 0): never a -1 id. */
    public static Request withBos(Tokenizer tokenizer, int[] body, long seed) {
      if (tokenizer.bosId() < 0) {
        return new Request(body.clone(), seed);
      }
      int[] prompt = new int[body.length + 1];
      prompt[0] = tokenizer.bosId();
      System.arraycopy(body, 0, prompt, 1, body.length);
      return new Request(prompt, seed);
    }
  }

  private final Transformer model;
  private final Tokenizer tokenizer;

  public Generator(Transformer model, Tokenizer tokenizer) {
    this.model = model;
    this.tokenizer = tokenizer;
  }

  public List<Generation> generate(List<Request> requests, SamplingParams params) {
    return run(requests, params, true);
  }

  /** The same sampling recomputing the whole sequence every step: the baseline the cache must beat. */
  public List<Generation> generateWithoutCache(List<Request> requests, SamplingParams params) {
    return run(requests, params, false);
  }

  /** Per-row decoding state. */
  private static final class Row {
    final int promptLength;
    final SplittableRandom rnd;
    final int[] tokens;
    final float[] logProbs;
    final StopText stops;
    int count;
    Generation.Finish finish;
    int stopAt = -1;

    Row(int promptLength, long seed, int maxNew, StopText stops) {
      this.promptLength = promptLength;
      this.rnd = new SplittableRandom(seed);
      this.tokens = new int[maxNew];
      this.logProbs = new float[maxNew];
      this.stops = stops;
    }
  }

  private List<Generation> run(List<Request> requests, SamplingParams params, boolean cached) {
    int b = requests.size();
    if (b == 0) {
      return List.of();
    }
    int p = check(requests);
    int width = p + params.maxNewTokens();
    if (width > model.config().maxPositions()) {
      throw new IllegalArgumentException("prompt " + p + " + max new tokens " + params.maxNewTokens()
          + " exceeds max positions " + model.config().maxPositions());
    }
    int pad = padding();
    int[][] seq = new int[b][width];
    int[][] pos = new int[b][width];
    boolean[][] valid = new boolean[b][width];
    List<Row> rows = new ArrayList<>();
    for (int r = 0; r < b; r++) {
      int[] prompt = requests.get(r).prompt();
      Arrays.fill(seq[r], pad);
      int offset = p - prompt.length;
      for (int i = 0; i < prompt.length; i++) {
        seq[r][offset + i] = prompt[i];
        pos[r][offset + i] = i;
        valid[r][offset + i] = true;
      }
      StopText stops = params.stopStrings().isEmpty() ? null : new StopText(tokenizer, params.stopStrings());
      rows.add(new Row(prompt.length, requests.get(r).seed(), params.maxNewTokens(), stops));
    }
    int[] stopIds = params.stopTokens().stream().mapToInt(Integer::intValue).distinct().sorted().toArray();
    try (Transformer.NoGradient off = Transformer.noGradient(); NDManager gen = model.newStepManager()) {
      if (cached) {
        try (Transformer.Decoding decoding = model.decoding(gen, b, width)) {
          decode(rows, params, stopIds, seq, pos, valid, p, decoding, null);
        }
      } else {
        decode(rows, params, stopIds, seq, pos, valid, p, null, gen);
      }
    }
    List<Generation> out = new ArrayList<>();
    for (Row row : rows) {
      out.add(finish(row));
    }
    return out;
  }

  /** The id that fills padding columns (hidden by the mask): the tokenizer's pad, or 0 when it has none. */
  private int padding() {
    int pad = tokenizer.padId();
    return pad >= 0 && pad < model.config().vocabSize() ? pad : 0;
  }

  /** The longest prompt's length, after checking that every prompt is non-empty and in the vocabulary. */
  private int check(List<Request> requests) {
    int vocab = model.config().vocabSize();
    int p = 0;
    for (int r = 0; r < requests.size(); r++) {
      int[] prompt = requests.get(r).prompt();
      if (prompt.length == 0) {
        throw new IllegalArgumentException("every prompt needs at least one token (e.g. <bos>), row " + r + " is empty");
      }
      for (int i = 0; i < prompt.length; i++) {
        if (prompt[i] < 0 || prompt[i] >= vocab) {
          throw new IllegalArgumentException("prompt row " + r + " has token id " + prompt[i] + " at index " + i
              + ", outside the vocabulary [0, " + vocab + ")" + (prompt[i] < 0 ? " (a missing special such as bos?)" : ""));
        }
      }
      p = Math.max(p, prompt.length);
    }
    return p;
  }

  /** The sampling loop: through {@code decoding}'s cache, or recomputing every column in {@code gen}. */
  private void decode(List<Row> rows, SamplingParams params, int[] stopIds, int[][] seq, int[][] pos,
      boolean[][] valid, int p, Transformer.Decoding decoding, NDManager gen) {
    int b = rows.size();
    int v = model.config().vocabSize();
    int pad = padding();
    int filled = p;
    float[] flat = decoding != null
        ? decoding.prefill(prefix(seq, filled), prefix(pos, filled), prefix(valid, filled))
        : fullLogits(gen, seq, pos, valid, filled);
    float[] logits = new float[v];
    int[] next = new int[b];
    int[] at = new int[b];
    for (int t = 0; t < params.maxNewTokens(); t++) {
      boolean anyOpen = false;
      for (int r = 0; r < b; r++) {
        Row row = rows.get(r);
        next[r] = pad;
        if (row.finish == null) {
          System.arraycopy(flat, r * v, logits, 0, v);
          TokenSampler.Pick pick = TokenSampler.draw(logits, params.temperature(), params.topK(), params.topP(), row.rnd);
          int token = pick.token();
          row.tokens[row.count] = token;
          row.logProbs[row.count] = pick.logProb();
          row.count++;
          seq[r][filled] = token;
          pos[r][filled] = row.promptLength + t;
          valid[r][filled] = true;
          next[r] = token;
          at[r] = row.promptLength + t;
          checkStop(row, params, stopIds);
          anyOpen |= row.finish == null;
        }
      }
      filled++;
      if (!anyOpen || t == params.maxNewTokens() - 1) {
        break;
      }
      flat = decoding != null ? decoding.step(next, at) : fullLogits(gen, seq, pos, valid, filled);
    }
  }

  private void checkStop(Row row, SamplingParams params, int[] stopIds) {
    int token = row.tokens[row.count - 1];
    if (Arrays.binarySearch(stopIds, token) >= 0) {
      row.finish = Generation.Finish.STOP_TOKEN;
      return;
    }
    if (row.stops != null) {
      int at = row.stops.add(row.tokens, row.count);
      if (at >= 0) {
        row.finish = Generation.Finish.STOP_STRING;
        row.stopAt = at;
        return;
      }
    }
    if (row.count == params.maxNewTokens()) {
      row.finish = Generation.Finish.LENGTH;
    }
  }

  private Generation finish(Row row) {
    int[] tokens = Arrays.copyOf(row.tokens, row.count);
    float[] lps = Arrays.copyOf(row.logProbs, row.count);
    Generation.Finish finish = row.finish == null ? Generation.Finish.LENGTH : row.finish;
    int[] shown = finish == Generation.Finish.STOP_TOKEN ? Arrays.copyOf(tokens, tokens.length - 1) : tokens;
    String text = tokenizer.decode(shown, true);
    if (finish == Generation.Finish.STOP_STRING) {
      text = text.substring(0, row.stopAt);
    }
    return new Generation(tokens, lps, text, finish);
  }

  /** Full recomputation: every column [0, to) again, the LM head on column to-1 only; flat (B * V). */
  private float[] fullLogits(NDManager parent, int[][] seq, int[][] pos, boolean[][] valid, int to) {
    int b = seq.length;
    boolean[][][] allowed = new boolean[b][to][to];
    for (int r = 0; r < b; r++) {
      for (int j = 0; j < to; j++) {
        if (valid[r][j]) {
          for (int i = j; i < to; i++) {
            allowed[r][i][j] = true;
          }
        }
      }
    }
    try (NDManager step = parent.newSubManager()) {
      NDArray tokens = step.create(prefix(seq, to)); // (B, T)
      return model.forwardLast(tokens, step.create(prefix(pos, to)), Masks.of(step, allowed)).toFloatArray(); // (B, V)
    }
  }

  private static int[][] prefix(int[][] a, int n) {
    int[][] out = new int[a.length][];
    for (int r = 0; r < a.length; r++) {
      out[r] = Arrays.copyOf(a[r], n);
    }
    return out;
  }

  private static boolean[][] prefix(boolean[][] a, int n) {
    boolean[][] out = new boolean[a.length][];
    for (int r = 0; r < a.length; r++) {
      out[r] = Arrays.copyOf(a[r], n);
    }
    return out;
  }

  /**
   * The continuation's decoded text kept up to date token by token, and the first stop string in
   * it: each token decodes a bounded tail window (with and without the token) instead of the whole
   * continuation, and only the text that the token could have completed is searched. When the
   * window's text is not an extension (a multi-byte character still open, a tokenizer that
   * rewrites earlier text), the whole continuation is decoded once, so the text always equals
   * {@code decode(tokens)} and the cut equals the whole-text search's.
   */
  static final class StopText {
    static final int WINDOW = 8;
    private final Tokenizer tokenizer;
    private final List<String> stops;
    private final int longest;
    private String text = "";

    StopText(Tokenizer tokenizer, List<String> stops) {
      this.tokenizer = tokenizer;
      this.stops = stops;
      this.longest = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Takes tokens[count-1] as new; returns where the first stop string starts, or -1. */
    int add(int[] tokens, int count) {
      int from = Math.max(0, count - WINDOW);
      String before = tokenizer.decode(Arrays.copyOfRange(tokens, from, count - 1), true);
      String after = tokenizer.decode(Arrays.copyOfRange(tokens, from, count), true);
      int unchanged;
      if (after.startsWith(before) && !before.endsWith("\uFFFD") && (from == 0 || !before.isEmpty())) {
        unchanged = text.length();
        text = text + after.substring(before.length());
      } else {
        String full = tokenizer.decode(Arrays.copyOf(tokens, count), true);
        unchanged = commonPrefix(text, full);
        text = full;
      }
      for (String stop : stops) {
        int at = text.indexOf(stop, Math.max(0, unchanged - stop.length() + 1));
        if (at >= 0) {
          return at; // the first stop in list order that occurs, as the whole-text search picks
        }
      }
      return -1;
    }

    String text() {
      return text;
    }

    private static int commonPrefix(String a, String b) {
      int n = Math.min(a.length(), b.length());
      int i = 0;
      while (i < n && a.charAt(i) == b.charAt(i)) {
        i++;
      }
      return i;
    }
  }
}
