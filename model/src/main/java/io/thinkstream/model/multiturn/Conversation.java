package io.thinkstream.model.multiturn;

import io.thinkstream.model.Tokenizer;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A multi-turn conversation: each turn is a human message, the strategy tag the turn was answered
 * under (null when untagged), the assistant's hidden reasoning (empty when the turn has none) and
 * the assistant's answer. Later turns see earlier questions and answers but never earlier tags or
 * reasoning, which is what {@link SinglePass} and {@link NPass} both train and what the sampler
 * conditions each turn on ({@link Tokens#context}).
 */
public record Conversation(String id, List<Turn> turns) {
  public record Turn(String human, String reasoning, String answer, String tag) {
    public Turn {
      Objects.requireNonNull(human, "human");
      reasoning = reasoning == null ? "" : reasoning;
      Objects.requireNonNull(answer, "answer");
    }

    /** An untagged turn. */
    public Turn(String human, String reasoning, String answer) {
      this(human, reasoning, answer, null);
    }

    public boolean hasReasoning() {
      return !reasoning.isEmpty();
    }
  }

  public Conversation {
    Objects.requireNonNull(id, "id");
    turns = List.copyOf(turns);
    if (turns.isEmpty()) {
      throw new IllegalArgumentException("conversation '" + id + "' has no turns");
    }
    for (int t = 0; t < turns.size(); t++) {
      if (turns.get(t).answer().isBlank()) {
        throw new IllegalArgumentException("conversation '" + id + "' turn " + (t + 1)
            + ": empty answer (every assistant turn needs an answer to train on)");
      }
    }
  }

  /**
   * One turn as token ids: H, the tag T, R (T and R empty when the turn has none) and A. T is
   * context, never trained; like R it is seen by this turn's reasoning and answer only.
   */
  public record TokenTurn(int[] human, int[] reasoning, int[] answer, int[] tag) {
    public TokenTurn {
      tag = tag == null ? new int[0] : tag;
      if (human.length == 0 || answer.length == 0) {
        // the last human token predicts the turn's first trained token; the answer is what is trained
        throw new IllegalArgumentException("a turn needs at least one human and one answer token, got "
            + human.length + " and " + answer.length);
      }
    }

    /** An untagged turn. */
    public TokenTurn(int[] human, int[] reasoning, int[] answer) {
      this(human, reasoning, answer, new int[0]);
    }

    public boolean hasReasoning() {
      return reasoning.length > 0;
    }

    /** Whether the turn has positions later turns never see (a tag or reasoning). */
    public boolean hasHidden() {
      return tag.length > 0 || reasoning.length > 0;
    }
  }

  /** A conversation as token ids, ready for {@link SinglePass#rows}, {@link SinglePass#packed} or {@link NPass#batches}. */
  public record Tokens(String id, List<TokenTurn> turns) {
    public Tokens {
      turns = List.copyOf(turns);
      if (turns.isEmpty()) {
        throw new IllegalArgumentException("conversation '" + id + "' has no turns");
      }
    }

    /**
     * Fails unless every turn fits the model: turn t's largest position id is that of its N-pass
     * sequence's last token (earlier H and A, then H, R, A), in the single-pass layout too.
     */
    void requirePositions(int maxPositions) {
      int p = 0;
      for (int t = 0; t < turns.size(); t++) {
        TokenTurn turn = turns.get(t);
        int last = p + turn.human().length + turn.tag().length + turn.reasoning().length + turn.answer().length - 1;
        if (last >= maxPositions) {
          throw new IllegalArgumentException("conversation '" + id + "' turn " + (t + 1) + " needs position id "
              + last + ", beyond the model's max_position_embeddings " + maxPositions);
        }
        p += turn.human().length + turn.answer().length;
      }
    }

    /**
     * The ids turn {@code t} (0-based) is answered in: H_1 A_1 … H_{t-1} A_{t-1} H_t T_t, the
     * earlier tags and reasoning left out. The sampler feeds exactly these ids, and the N-pass
     * sequence of turn t is them followed by R_t A_t.
     */
    public int[] context(int t) {
      List<int[]> parts = new ArrayList<>();
      for (int s = 0; s < t; s++) {
        parts.add(turns.get(s).human());
        parts.add(turns.get(s).answer());
      }
      parts.add(turns.get(t).human());
      parts.add(turns.get(t).tag());
      return concat(parts.toArray(int[][]::new));
    }
  }

  /**
   * The chat layout both trainers and the sampler share ({@link PromptFormat}'s multi-turn layout):
   * H = {@code <bos>} (first turn only) + {@link PromptFormat#human}(human), T = the tag (nothing
   * when untagged), R = reasoning + newline (nothing when there is none), A = answer + {@code <eos>}.
   * The first turn's H T is exactly the single-turn prompt ({@code <bos>} + {@link PromptFormat#prompt}),
   * so a conversation's first turn is trained on the ids a single-turn sample was drawn from.
   */
  public Tokens tokenize(Tokenizer tok) {
    List<TokenTurn> out = new ArrayList<>(turns.size());
    for (int t = 0; t < turns.size(); t++) {
      Turn turn = turns.get(t);
      int[] human = t == 0 ? tok.encodeAfterBos(PromptFormat.human(turn.human())) : tok.encode(PromptFormat.human(turn.human()));
      int[] tag = t == 0 ? firstTag(tok, turn, human) : turn.tag() == null ? new int[0] : tok.encode(turn.tag());
      int[] reasoning = turn.hasReasoning() ? tok.encode(turn.reasoning() + "\n") : new int[0];
      int[] answer = concat(tok.encode(turn.answer()), new int[] {tok.eosId()});
      out.add(new TokenTurn(human, reasoning, answer, tag));
    }
    return new Tokens(id, out);
  }

  /** The first turn's tag ids: what the single-turn prompt holds after H, which must be a prefix of it. */
  private int[] firstTag(Tokenizer tok, Turn turn, int[] human) {
    if (turn.tag() == null) {
      return new int[0];
    }
    int[] prompt = tok.encodeAfterBos(PromptFormat.prompt(turn.human(), turn.tag()));
    if (prompt.length < human.length || !java.util.Arrays.equals(prompt, 0, human.length, human, 0, human.length)) {
      throw new IllegalArgumentException("conversation '" + id + "': the tokenizer merges tag " + turn.tag()
          + " into the question's last tokens, so the first turn cannot be laid out as question then tag");
    }
    return java.util.Arrays.copyOfRange(prompt, human.length, prompt.length);
  }

  static int[] concat(int[]... parts) {
    int[] out = new int[java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum()];
    int at = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
