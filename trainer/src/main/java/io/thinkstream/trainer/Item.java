package io.thinkstream.trainer;

import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.SftExample;
import io.thinkstream.avro.SftTurn;
import io.thinkstream.model.Scorer;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.multiturn.Conversation;
import io.thinkstream.model.multiturn.SinglePass;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * One trainable record of the input topics, tokenised in the one {@code PromptFormat} layout:
 * {@code <bos>} + prompt text (the sampler's {@code PromptFormat.prompt(question, tag)}, or the
 * question and the steps before the pit) + completion + {@code <eos>}; a multi-turn SFT example in
 * the {@link Conversation} layout the sampler answered each turn in.
 */
public sealed interface Item permits Item.Pair, Item.Example, Item.Dialogue, Item.Latro {
  /** Where a record came from: its topic, partition and offset. */
  record Source(String topic, int partition, long offset) {}

  /** pairId or sampleId: what the trainer deduplicates on and what lineage lists. */
  String id();

  Source source();

  /** Positions the item takes in a micro-batch (every row it lays out). */
  int length();

  /** The objective it trains: "dpo", "pit", "sft" or "multiturn". */
  String objective();

  /** A preference pair; OUTCOME and JUDGE pairs train DPO, PIT pairs step-level DPO. */
  record Pair(String id, Source source, PairKind kind, Losses.Preference preference, String problemId, long policyVersion)
      implements Item {
    @Override
    public int length() {
      return 2 * preference.prompt().length + preference.chosen().length + preference.rejected().length;
    }

    @Override
    public String objective() {
      return kind == PairKind.PIT ? "pit" : "dpo";
    }
  }

  /**
   * A correct sample for SFT / RFT: prompt then completion, the completion trained. {@code question}
   * is the prompt text without its strategy tag, which SSFT re-tags with every tag.
   */
  record Example(String id, Source source, Scorer.Pair example, String problemId, long policyVersion, String question)
      implements Item {
    @Override
    public int length() {
      return example.prompt().length + example.continuation().length;
    }

    @Override
    public String objective() {
      return "sft";
    }
  }

  /** A multi-turn conversation with reasoning, trained in one pass ({@code SinglePass}). */
  record Dialogue(String id, Source source, Conversation.Tokens conversation, String problemId, long policyVersion)
      implements Item {
    @Override
    public int length() {
      return SinglePass.length(conversation);
    }

    @Override
    public String objective() {
      return "multiturn";
    }
  }

  /** LaTRO: K samples of one problem and policy version, with the gold answer y = "The answer is {gold}.". */
  record Latro(String id, Source source, Losses.Rationales group, List<String> sampleIds, List<Source> sources,
      String problemId, long policyVersion) implements Item {
    @Override
    public int length() {
      int n = 0;
      for (int k = 0; k < group.rationales().size(); k++) {
        int xz = group.prompts().get(k).length + group.rationales().get(k).length;
        n += 2 * xz + group.answer().length;
      }
      return n;
    }

    @Override
    public String objective() {
      return "latro";
    }
  }

  /** A pair record as token ids. */
  static Pair of(PreferencePair p, Source source, Tokenizer tok) {
    return new Pair(p.getPairId(), source, p.getKind(), new Losses.Preference(tok.encodeAfterBos(p.getPrompt()),
        withEos(tok, p.getChosen()), withEos(tok, p.getRejected())), p.getProblemId(), p.getPolicyVersion());
  }

  /** An SFT example record as token ids: an {@link Example}, or a {@link Dialogue} when it has later turns. */
  static Item of(SftExample e, Source source, Tokenizer tok) {
    if (!e.getFollowUps().isEmpty()) {
      return dialogue(e, source, tok);
    }
    String prompt = e.getPrompt();
    String tag = e.getStrategy();
    String untagged = tag != null && prompt.endsWith(tag) ? prompt.substring(0, prompt.length() - tag.length()) : prompt;
    return new Example(e.getSampleId(), source, new Scorer.Pair(tok.encodeAfterBos(prompt),
        withEos(tok, e.getCompletion())), e.getProblemId(), e.getPolicyVersion(), untagged);
  }

  /**
   * A multi-turn example as the conversation its sample was drawn as: every turn under the
   * sample's tag, answered in the earlier questions and answers ({@link Conversation.Tokens#context},
   * the ids the sampler fed), its reasoning and answer trained.
   */
  static Dialogue dialogue(SftExample e, Source source, Tokenizer tok) {
    String tag = e.getStrategy();
    String question = PromptFormat.question(e.getPrompt(), tag).orElseThrow(() -> new IllegalArgumentException(
        "sft example " + e.getSampleId() + ": prompt '" + e.getPrompt() + "' is not a question followed by tag " + tag));
    List<Conversation.Turn> turns = new ArrayList<>();
    turns.add(turn(question, e.getCompletion(), tag));
    for (SftTurn t : e.getFollowUps()) {
      turns.add(turn(t.getQuestion(), t.getCompletion(), tag));
    }
    return new Dialogue(e.getSampleId(), source, new Conversation(e.getSampleId(), turns).tokenize(tok),
        e.getProblemId(), e.getPolicyVersion());
  }

  /** One turn: its steps become the reasoning (one per line), its answer line the answer. */
  private static Conversation.Turn turn(String question, String completion, String tag) {
    PromptFormat.Completion c = PromptFormat.split(completion);
    return new Conversation.Turn(question, String.join("\n", c.steps()), c.answer(), tag);
  }

  private static int[] withEos(Tokenizer tok, String text) {
    int[] body = tok.encode(text);
    int[] out = java.util.Arrays.copyOf(body, body.length + 1);
    out[body.length] = tok.eosId();
    return out;
  }
}
