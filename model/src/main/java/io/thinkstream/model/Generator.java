package io.thinkstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.thinkstream.model.internal.KvCache;
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
  public record Request(int[] prompt, long seed) {}

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
    final List<Integer> tokens = new ArrayList<>();
    final List<Float> logProbs = new ArrayList<>();
    Generation.Finish finish;
    int stopAt = -1;

    Row(int promptLength, long seed) {
      this.promptLength = promptLength;
      this.rnd = new SplittableRandom(seed);
    }
  }

  private List<Generation> run(List<Request> requests, SamplingParams params, boolean cached) {
    int b = requests.size();
    if (b == 0) {
      return List.of();
    }
    int p = requests.stream().mapToInt(r -> r.prompt().length).max().orElseThrow();
    if (requests.stream().anyMatch(r -> r.prompt().length == 0)) {
      throw new IllegalArgumentException("every prompt needs at least one token (e.g. <bos>)");
    }
    int width = p + params.maxNewTokens();
    if (width > model.config().maxPositions()) {
      throw new IllegalArgumentException("prompt " + p + " + max new tokens " + params.maxNewTokens()
          + " exceeds max positions " + model.config().maxPositions());
    }
    int[][] seq = new int[b][width];
    int[][] pos = new int[b][width];
    boolean[][] valid = new boolean[b][width];
    List<Row> rows = new ArrayList<>();
    for (int r = 0; r < b; r++) {
      int[] prompt = requests.get(r).prompt();
      Arrays.fill(seq[r], tokenizer.padId());
      int offset = p - prompt.length;
      for (int i = 0; i < prompt.length; i++) {
        seq[r][offset + i] = prompt[i];
        pos[r][offset + i] = i;
        valid[r][offset + i] = true;
      }
      rows.add(new Row(prompt.length, requests.get(r).seed()));
    }
    try (NDManager gen = model.newStepManager(); KvCache cache = cached ? model.newCache(gen) : null) {
      int filled = p;
      float[][] last = lastLogits(gen, seq, pos, valid, 0, filled, cache);
      for (int t = 0; t < params.maxNewTokens(); t++) {
        boolean anyOpen = false;
        for (int r = 0; r < b; r++) {
          Row row = rows.get(r);
          if (row.finish == null) {
            int token = TokenSampler.pick(last[r], params.temperature(), params.topK(), params.topP(), row.rnd);
            row.tokens.add(token);
            row.logProbs.add(TokenSampler.logProb(last[r], token));
            seq[r][filled] = token;
            pos[r][filled] = row.promptLength + t;
            valid[r][filled] = true;
            checkStop(row, params);
            anyOpen |= row.finish == null;
          }
        }
        filled++;
        if (!anyOpen || t == params.maxNewTokens() - 1) {
          break;
        }
        last = cached
            ? lastLogits(gen, seq, pos, valid, filled - 1, filled, cache)
            : lastLogits(gen, seq, pos, valid, 0, filled, null);
      }
    }
    List<Generation> out = new ArrayList<>();
    for (Row row : rows) {
      out.add(finish(row));
    }
    return out;
  }

  private void checkStop(Row row, SamplingParams params) {
    int token = row.tokens.get(row.tokens.size() - 1);
    if (params.stopTokens().contains(token)) {
      row.finish = Generation.Finish.STOP_TOKEN;
      return;
    }
    if (!params.stopStrings().isEmpty()) {
      String text = tokenizer.decode(ids(row.tokens), true);
      for (String stop : params.stopStrings()) {
        int at = text.indexOf(stop);
        if (at >= 0) {
          row.finish = Generation.Finish.STOP_STRING;
          row.stopAt = at;
          return;
        }
      }
    }
    if (row.tokens.size() == params.maxNewTokens()) {
      row.finish = Generation.Finish.LENGTH;
    }
  }

  private Generation finish(Row row) {
    int[] tokens = ids(row.tokens);
    float[] lps = new float[row.logProbs.size()];
    for (int i = 0; i < lps.length; i++) {
      lps[i] = row.logProbs.get(i);
    }
    Generation.Finish finish = row.finish == null ? Generation.Finish.LENGTH : row.finish;
    int[] shown = finish == Generation.Finish.STOP_TOKEN ? Arrays.copyOf(tokens, tokens.length - 1) : tokens;
    String text = tokenizer.decode(shown, true);
    if (finish == Generation.Finish.STOP_STRING) {
      text = text.substring(0, row.stopAt);
    }
    return new Generation(tokens, lps, text, finish);
  }

  /**
   * Runs query columns [from, to) against keys [0, to) (through the cache when given) and returns
   * the logits of column to-1 per row.
   */
  private float[][] lastLogits(
      NDManager parent, int[][] seq, int[][] pos, boolean[][] valid, int from, int to, KvCache cache) {
    int b = seq.length;
    int t = to - from;
    int[][] tokens = new int[b][t];
    int[][] positions = new int[b][t];
    boolean[][][] allowed = new boolean[b][t][to];
    for (int r = 0; r < b; r++) {
      System.arraycopy(seq[r], from, tokens[r], 0, t);
      System.arraycopy(pos[r], from, positions[r], 0, t);
      for (int i = 0; i < t; i++) {
        for (int j = 0; j <= from + i; j++) {
          allowed[r][i][j] = valid[r][j];
        }
      }
    }
    try (NDManager step = parent.newSubManager()) {
      NDArray logits = model.forward(step.create(tokens), step.create(positions), Masks.of(step, allowed), cache); // (B, T, V)
      float[] flat = logits.get(new NDIndex(":, -1, :")).toFloatArray(); // (B, V)
      int v = model.config().vocabSize();
      float[][] out = new float[b][];
      for (int r = 0; r < b; r++) {
        out[r] = Arrays.copyOfRange(flat, r * v, (r + 1) * v);
      }
      return out;
    }
  }

  private static int[] ids(List<Integer> tokens) {
    return tokens.stream().mapToInt(Integer::intValue).toArray();
  }
}
