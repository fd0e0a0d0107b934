package io.thinkstream.sampler;

import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.multiturn.Conversation;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What one sequence continues, in {@link PromptFormat}'s layout, as token ids for an in-process
 * policy ({@link #ids}) or as text for a server ({@link #text}). A closed set: a turn of a problem
 * or a first-pit exploration prefix.
 */
public sealed interface Prompt permits Prompt.Turn, Prompt.Prefix {

  /** The prompt as token ids, starting with {@code <bos>}. */
  int[] ids(Tokenizer tok);

  /** The prompt as text, for servers that tokenize themselves. */
  String text();

  /** An earlier turn as a later one sees it: the question and the answer, never the reasoning. */
  record Exchange(String question, String answer) {}

  /**
   * Turn {@code earlier.size() + 1} of a problem: the earlier questions and answers, then this
   * turn's question and the strategy tag (null when untagged), which the completion follows.
   */
  record Turn(List<Exchange> earlier, String question, String tag) implements Prompt {
    public Turn {
      earlier = List.copyOf(earlier);
      Objects.requireNonNull(question, "question");
    }

    @Override
    public int[] ids(Tokenizer tok) {
      if (earlier.isEmpty()) {
        // exactly Tokenizer.encodePrompt: the single-turn prompt trained on is the one sampled from
        return tok.encodeAfterBos(PromptFormat.prompt(question, tag));
      }
      // The trainer's multi-turn layout, one place (Conversation.Tokens.context): H_1 A_1 ... H_t T_t.
      List<Conversation.Turn> turns = new ArrayList<>();
      for (Exchange e : earlier) {
        turns.add(new Conversation.Turn(e.question(), "", e.answer().isBlank() ? NO_ANSWER : e.answer(), tag));
      }
      turns.add(new Conversation.Turn(question, "", NO_ANSWER, tag));
      List<Conversation.TokenTurn> tokens = new ArrayList<>(new Conversation("prompt", turns).tokenize(tok).turns());
      for (int t = 0; t < earlier.size(); t++) {
        if (earlier.get(t).answer().isBlank()) {
          // a turn that reached no final answer shows an empty answer: just its <eos>
          Conversation.TokenTurn x = tokens.get(t);
          tokens.set(t, new Conversation.TokenTurn(x.human(), x.reasoning(), new int[] {tok.eosId()}, x.tag()));
        }
      }
      return new Conversation.Tokens("prompt", tokens).context(earlier.size());
    }

    @Override
    public String text() {
      StringBuilder b = new StringBuilder();
      for (Exchange e : earlier) {
        b.append(PromptFormat.human(e.question())).append(e.answer()).append('\n');
      }
      return b.append(PromptFormat.prompt(question, tag)).toString();
    }
  }

  /** A first-pit exploration: the question, the tag and the sample's first steps, as one text. */
  record Prefix(String prefix) implements Prompt {
    public Prefix {
      Objects.requireNonNull(prefix, "prefix");
    }

    @Override
    public int[] ids(Tokenizer tok) {
      return tok.encodeAfterBos(prefix);
    }

    @Override
    public String text() {
      return prefix;
    }
  }

  /** Stands in for an empty answer only while tokenizing; its tokens are never used. */
  String NO_ANSWER = "-";
}
