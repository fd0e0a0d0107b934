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
      // The trainer's multi-turn layout with the earlier reasoning left out: H_1 A_1 ... H_t, then the tag.
      List<Conversation.Turn> turns = new ArrayList<>();
      for (Exchange e : earlier) {
        turns.add(new Conversation.Turn(e.question(), "", e.answer().isBlank() ? NO_ANSWER : e.answer()));
      }
      turns.add(new Conversation.Turn(question, "", NO_ANSWER));
      List<Conversation.TokenTurn> tokens = new Conversation("prompt", turns).tokenize(tok).turns();
      List<int[]> parts = new ArrayList<>();
      for (int t = 0; t < earlier.size(); t++) {
        parts.add(tokens.get(t).human());
        // a turn that reached no final answer shows an empty answer: just its <eos>
        parts.add(earlier.get(t).answer().isBlank() ? new int[] {tok.eosId()} : tokens.get(t).answer());
      }
      parts.add(tokens.get(earlier.size()).human());
      parts.add(tag == null ? new int[0] : tok.encode(tag));
      return concat(parts);
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

  private static int[] concat(List<int[]> parts) {
    int[] out = new int[parts.stream().mapToInt(p -> p.length).sum()];
    int at = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
