package io.thinkstream.model.multiturn;

import io.thinkstream.model.Tokenizer;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A multi-turn conversation: each turn is a human message, the assistant's hidden reasoning (empty
 * when the turn has none) and the assistant's answer. Later turns see earlier answers but never
 * earlier reasoning, which is what {@link SinglePass} and {@link NPass} both train.
 */
public record Conversation(String id, List<Turn> turns) {
  public record Turn(String human, String reasoning, String answer) {
    public Turn {
      Objects.requireNonNull(human, "human");
      reasoning = reasoning == null ? "" : reasoning;
      Objects.requireNonNull(answer, "answer");
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

  /** One turn as token ids: H, R (empty when there is no reasoning) and A. */
  public record TokenTurn(int[] human, int[] reasoning, int[] answer) {
    public TokenTurn {
      if (human.length == 0 || answer.length == 0) {
        // the last human token predicts the turn's first trained token; the answer is what is trained
        throw new IllegalArgumentException("a turn needs at least one human and one answer token, got "
            + human.length + " and " + answer.length);
      }
    }

    public boolean hasReasoning() {
      return reasoning.length > 0;
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
        int last = p + turn.human().length + turn.reasoning().length + turn.answer().length - 1;
        if (last >= maxPositions) {
          throw new IllegalArgumentException("conversation '" + id + "' turn " + (t + 1) + " needs position id "
              + last + ", beyond the model's max_position_embeddings " + maxPositions);
        }
        p += turn.human().length + turn.answer().length;
      }
    }
  }

  /**
   * The chat layout both trainers share ({@link PromptFormat}'s multi-turn layout): H = {@code <bos>}
   * (first turn only) + {@link PromptFormat#human}(human),
   * R = reasoning + newline (nothing when there is none), A = answer + {@code <eos>}.
   */
  public Tokens tokenize(Tokenizer tok) {
    List<TokenTurn> out = new ArrayList<>(turns.size());
    for (int t = 0; t < turns.size(); t++) {
      Turn turn = turns.get(t);
      int[] human = t == 0 ? tok.encodeAfterBos(PromptFormat.human(turn.human())) : tok.encode(PromptFormat.human(turn.human()));
      int[] reasoning = turn.hasReasoning() ? tok.encode(turn.reasoning() + "\n") : new int[0];
      int[] answer = concat(tok.encode(turn.answer()), new int[] {tok.eosId()});
      out.add(new TokenTurn(human, reasoning, answer));
    }
    return new Tokens(id, out);
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
