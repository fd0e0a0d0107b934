package io.thinkstream.model.multiturn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.thinkstream.model.AttentionBlocks;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.Masks;
import io.thinkstream.model.Transformer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Single-pass training of multi-turn reasoning (One-Pass to Reason): every turn with reasoning is
 * laid out as [H][T][R][A^in][A^out], so one forward pass over the whole conversation gives the same
 * loss as one pass per turn with earlier reasoning removed ({@link NPass}).
 *
 * <p>T is the turn's strategy tag (often empty): context the turn was sampled under, which later
 * turns never saw, so it is hidden like R but never trained. Position ids: H continues the running
 * counter p; T R start at p, and so does A^in (as if T R were absent); A^out starts at p + |T| + |R|;
 * afterwards p advances by |A| only. Visibility, on top of causal and padding: A^out_t sees H_≤t,
 * A^in_&lt;t, T_t, R_t and itself; A^in_t does not see T_t or R_t; later turns never see T, R or
 * A^out of earlier turns. A turn without tag and reasoning keeps one answer copy (role A), trained
 * and seen by later turns. Labels: R and A^out (or A) trained, H, T and A^in not. The target of
 * each position is the next token of the sequence its turn's N-pass would see, so the last R token
 * predicts A[0] although A^in sits between them in the row.
 */
public final class SinglePass {
  /** What a position holds; the letter is what {@link Rows#render} prints. */
  public enum Role {
    PAD('.'), HUMAN('H'), TAG('T'), REASONING('R'), ANSWER_IN('I'), ANSWER_OUT('O'), ANSWER('A');

    public final char letter;

    Role(char letter) {
      this.letter = letter;
    }

    /** Whether later turns may attend to this position. */
    boolean shared() {
      return this == HUMAN || this == ANSWER_IN || this == ANSWER;
    }
  }

  /**
   * A padded batch of rows. {@code segments} number the conversations packed into a row (0 =
   * padding), {@code turns} the turn of each position within its conversation; {@code targets[b][i]}
   * is the token position i predicts, counted when {@code weights[b][i]} is 1.
   */
  public record Rows(int[][] tokens, int[][] positions, Role[][] roles, int[][] turns, int[][] segments,
      int[][] targets, float[][] weights) {

    public int batch() {
      return tokens.length;
    }

    public int width() {
      return tokens[0].length;
    }

    /** Whether query position {@code q} of row {@code b} may attend to key position {@code k}. */
    public boolean visible(int b, int q, int k) {
      if (k > q || segments[b][k] == 0 || segments[b][k] != segments[b][q]) {
        return false;
      }
      Role rq = roles[b][q];
      Role rk = roles[b][k];
      if (turns[b][k] < turns[b][q]) {
        return rk.shared();
      }
      return switch (rq) {
        case HUMAN -> rk == Role.HUMAN;
        case TAG -> rk == Role.HUMAN || rk == Role.TAG;
        case REASONING -> rk == Role.HUMAN || rk == Role.TAG || rk == Role.REASONING;
        case ANSWER_IN -> rk == Role.HUMAN || rk == Role.ANSWER_IN;
        case ANSWER_OUT -> rk == Role.HUMAN || rk == Role.TAG || rk == Role.REASONING || rk == Role.ANSWER_OUT;
        case ANSWER -> rk == Role.HUMAN || rk == Role.ANSWER;
        case PAD -> false;
      };
    }

    /** {@code [b][q][k]}: the whole block mask as booleans. */
    public boolean[][][] visibility() {
      boolean[][][] v = new boolean[batch()][width()][width()];
      for (int b = 0; b < batch(); b++) {
        for (int q = 0; q < width(); q++) {
          for (int k = 0; k <= q; k++) {
            v[b][q][k] = visible(b, q, k);
          }
        }
      }
      return v;
    }

    /** The additive mask (B, 1, T, T) in {@code manager}. */
    public NDArray mask(NDManager manager) {
      return Masks.of(manager, visibility()); // (B, 1, T, T)
    }

    /**
     * The mask as attention blocks, one group per turn index: turn t's queries attend only to the
     * keys some of them may see (shared positions of earlier turns and turn t itself), so earlier
     * turns' reasoning and A^out blocks, hidden from every later query, are never computed.
     */
    public AttentionBlocks blocks() {
      int turnCount = 0;
      for (int b = 0; b < batch(); b++) {
        for (int i = 0; i < width(); i++) {
          if (segments[b][i] != 0) {
            turnCount = Math.max(turnCount, turns[b][i] + 1);
          }
        }
      }
      List<AttentionBlocks.Group> groups = new ArrayList<>();
      int[][] slot = new int[batch()][width()];
      int offset = 0;
      for (int t = 0; t < turnCount; t++) {
        int[][] queries = new int[batch()][];
        int[][] keys = new int[batch()][];
        for (int b = 0; b < batch(); b++) {
          List<Integer> q = new ArrayList<>();
          java.util.Set<Integer> conversations = new java.util.HashSet<>();
          for (int i = 0; i < width(); i++) {
            if (segments[b][i] != 0 && turns[b][i] == t) {
              slot[b][i] = offset + q.size();
              q.add(i);
              conversations.add(segments[b][i]);
            }
          }
          // Exactly the keys some query sees: every position of turn t sees itself, and turn t's
          // first human token sees all shared positions of its conversation's earlier turns.
          int row = b;
          int turn = t;
          queries[b] = q.stream().mapToInt(Integer::intValue).toArray();
          keys[b] = java.util.stream.IntStream.range(0, width()).filter(k -> conversations.contains(segments[row][k])
              && (turns[row][k] == turn || turns[row][k] < turn && roles[row][k].shared())).toArray();
        }
        int lq = Arrays.stream(queries).mapToInt(a -> a.length).max().orElse(0);
        int lk = Arrays.stream(keys).mapToInt(a -> a.length).max().orElse(0);
        boolean[][][] vis = new boolean[batch()][lq][lk];
        for (int b = 0; b < batch(); b++) {
          for (int i = 0; i < queries[b].length; i++) {
            for (int j = 0; j < keys[b].length; j++) {
              vis[b][i][j] = visible(b, queries[b][i], keys[b][j]);
            }
          }
          queries[b] = padded(queries[b], lq);
          keys[b] = padded(keys[b], lk);
        }
        groups.add(new AttentionBlocks.Group(queries, keys, vis));
        offset += lq;
      }
      return new AttentionBlocks(groups, slot);
    }

    private static int[] padded(int[] a, int n) {
      int[] out = Arrays.copyOf(a, n);
      Arrays.fill(out, a.length, n, -1);
      return out;
    }

    /** Non-padding positions: the tokens a forward pass really processes. */
    public long realTokens() {
      return LmTrainer.realTokens(segments);
    }

    /** Positions whose next-token loss counts. */
    public double trainedTokens() {
      return LmTrainer.trainedTokens(weights);
    }

    /**
     * Row {@code b}'s mask for humans: a header of key roles and turns, then one line per query
     * (its role, turn and position id) with {@code #} where it sees a key and {@code .} where not.
     */
    public String render(int b) {
      int n = width();
      while (n > 0 && segments[b][n - 1] == 0) {
        n--;
      }
      StringBuilder s = new StringBuilder("row ").append(b).append(", ").append(n).append(" positions\n");
      s.append(" ".repeat(12));
      for (int k = 0; k < n; k++) {
        s.append(roles[b][k].letter);
      }
      s.append('\n').append(" ".repeat(12));
      for (int k = 0; k < n; k++) {
        s.append(segments[b][k] == 0 ? ' ' : Character.forDigit((turns[b][k] + 1) % 10, 10));
      }
      s.append('\n');
      for (int q = 0; q < n; q++) {
        s.append(String.format("%-12s", roles[b][q].letter + String.valueOf(turns[b][q] + 1) + " p" + positions[b][q]));
        for (int k = 0; k < n; k++) {
          s.append(visible(b, q, k) ? '#' : '.');
        }
        s.append('\n');
      }
      return s.toString();
    }
  }

  private SinglePass() {}

  /**
   * Mean next-token NLL per trained token of {@code rows}, in one forward pass with block-sparse
   * attention ({@link Rows#blocks}); a scalar in {@code step}.
   */
  public static NDArray loss(Transformer model, NDManager step, Rows rows) {
    return LmTrainer.perToken(sum(model, step, rows), rows.trainedTokens()); // ()
  }

  /** The summed NLL of {@code rows} (block-sparse, one pass), a scalar in {@code step}. */
  public static NDArray sum(Transformer model, NDManager step, Rows rows) {
    NDArray positions = step.create(rows.positions()); // (B, T)
    NDArray logits = model.forward(step.create(rows.tokens()), positions, rows.blocks()); // (B, T, V)
    return LmTrainer.nll(model, step, logits, rows.targets(), rows.weights()); // ()
  }

  /** The summed NLL with dense attention under the full mask, a scalar in {@code step}. */
  public static NDArray denseSum(Transformer model, NDManager step, Rows rows) {
    NDArray positions = step.create(rows.positions()); // (B, T)
    return LmTrainer.nll(model, step, rows.tokens(), positions, rows.mask(step), rows.targets(), rows.weights()); // ()
  }

  /** The rows as one part of an optimizer step ({@link LmTrainer#step(List)}). */
  public static LmTrainer.Part part(Transformer model, Rows rows) {
    return new LmTrainer.Part(step -> sum(model, step, rows), rows.trainedTokens());
  }

  /** The same loss with dense attention under the full (B, 1, T, T) mask: every hidden block computed. */
  public static NDArray denseLoss(Transformer model, NDManager step, Rows rows) {
    NDArray positions = step.create(rows.positions()); // (B, T)
    NDArray sum = LmTrainer.nll(model, step, rows.tokens(), positions, rows.mask(step), rows.targets(), rows.weights()); // ()
    return LmTrainer.perToken(sum, rows.trainedTokens()); // ()
  }

  /** Positions {@code c} takes laid out single-pass: H T R A^in A^out per turn (H A without tag and reasoning). */
  public static int length(Conversation.Tokens c) {
    int n = 0;
    for (Conversation.TokenTurn t : c.turns()) {
      n += t.human().length + t.tag().length + t.reasoning().length + (t.hasHidden() ? 2 : 1) * t.answer().length;
    }
    return n;
  }

  /** One conversation per row. */
  public static Rows rows(List<Conversation.Tokens> conversations, int maxPositions, int pad) {
    List<List<Laid>> rows = new ArrayList<>();
    for (Conversation.Tokens c : conversations) {
      rows.add(List.of(lay(c, maxPositions)));
    }
    return fill(rows, pad);
  }

  /**
   * Conversations packed in order into rows of at most {@code rowWidth} positions (a new row when
   * the next one does not fit); packed conversations never attend to each other.
   */
  public static Rows packed(List<Conversation.Tokens> conversations, int rowWidth, int maxPositions, int pad) {
    List<List<Laid>> rows = new ArrayList<>();
    List<Laid> current = new ArrayList<>();
    int used = 0;
    for (Conversation.Tokens c : conversations) {
      Laid laid = lay(c, maxPositions);
      if (laid.length() > rowWidth) {
        throw new IllegalArgumentException("conversation '" + c.id() + "' takes " + laid.length()
            + " positions laid out single-pass, more than a row's " + rowWidth);
      }
      if (used + laid.length() > rowWidth) {
        rows.add(current);
        current = new ArrayList<>();
        used = 0;
      }
      current.add(laid);
      used += laid.length();
    }
    if (!current.isEmpty()) {
      rows.add(current);
    }
    return fill(rows, pad);
  }

  /** One conversation's positions, before it is placed in a row. */
  private record Laid(int[] tokens, int[] positions, Role[] roles, int[] turns, int[] targets, float[] weights) {
    int length() {
      return tokens.length;
    }
  }

  private static Laid lay(Conversation.Tokens c, int maxPositions) {
    c.requirePositions(maxPositions);
    int n = length(c);
    Laid l = new Laid(new int[n], new int[n], new Role[n], new int[n], new int[n], new float[n]);
    int at = 0;
    int p = 0;
    for (int ti = 0; ti < c.turns().size(); ti++) {
      Conversation.TokenTurn t = c.turns().get(ti);
      int[] h = t.human();
      int[] g = t.tag();
      int[] r = t.reasoning();
      int[] a = t.answer();
      int first = r.length > 0 ? r[0] : a[0]; // the turn's first trained token
      at = put(l, at, ti, Role.HUMAN, h, p);
      if (g.length == 0) {
        train(l, at - 1, first); // the last human token predicts it; with a tag, the tag's last token does
      }
      p += h.length;
      if (t.hasHidden()) {
        at = put(l, at, ti, Role.TAG, g, p);
        if (g.length > 0) {
          train(l, at - 1, first); // the tag itself is context, never a target
        }
        int r0 = at;
        at = put(l, at, ti, Role.REASONING, r, p + g.length);
        if (r.length > 0) {
          trainBlock(l, r0, r, a[0]); // the last R token predicts A[0], as in the N-pass sequence
        }
        at = put(l, at, ti, Role.ANSWER_IN, a, p);
        int o0 = at;
        at = put(l, at, ti, Role.ANSWER_OUT, a, p + g.length + r.length);
        trainBlock(l, o0, a, -1);
      } else {
        int a0 = at;
        at = put(l, at, ti, Role.ANSWER, a, p);
        trainBlock(l, a0, a, -1);
      }
      p += a.length;
    }
    return l;
  }

  /** Writes {@code ids} at row offset {@code at} with position ids from {@code p}; returns the end. */
  private static int put(Laid l, int at, int turn, Role role, int[] ids, int p) {
    for (int j = 0; j < ids.length; j++) {
      l.tokens[at + j] = ids[j];
      l.positions[at + j] = p + j;
      l.roles[at + j] = role;
      l.turns[at + j] = turn;
    }
    return at + ids.length;
  }

  /** Position {@code from + j} predicts {@code ids[j + 1]}; the block's last predicts {@code after} (-1: nothing). */
  private static void trainBlock(Laid l, int from, int[] ids, int after) {
    for (int j = 0; j + 1 < ids.length; j++) {
      train(l, from + j, ids[j + 1]);
    }
    if (after >= 0) {
      train(l, from + ids.length - 1, after);
    }
  }

  private static void train(Laid l, int i, int target) {
    l.targets[i] = target;
    l.weights[i] = 1f;
  }

  private static Rows fill(List<List<Laid>> rows, int pad) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("no conversations to lay out");
    }
    int width = rows.stream().mapToInt(r -> r.stream().mapToInt(Laid::length).sum()).max().orElseThrow();
    int b = rows.size();
    Rows out = new Rows(new int[b][width], new int[b][width], new Role[b][width], new int[b][width],
        new int[b][width], new int[b][width], new float[b][width]);
    for (int r = 0; r < b; r++) {
      Arrays.fill(out.tokens()[r], pad);
      Arrays.fill(out.roles()[r], Role.PAD);
      int at = 0;
      int segment = 1;
      for (Laid l : rows.get(r)) {
        System.arraycopy(l.tokens, 0, out.tokens()[r], at, l.length());
        System.arraycopy(l.positions, 0, out.positions()[r], at, l.length());
        System.arraycopy(l.roles, 0, out.roles()[r], at, l.length());
        System.arraycopy(l.turns, 0, out.turns()[r], at, l.length());
        System.arraycopy(l.targets, 0, out.targets()[r], at, l.length());
        System.arraycopy(l.weights, 0, out.weights()[r], at, l.length());
        Arrays.fill(out.segments()[r], at, at + l.length(), segment++);
        at += l.length();
      }
    }
    return out;
  }
}
