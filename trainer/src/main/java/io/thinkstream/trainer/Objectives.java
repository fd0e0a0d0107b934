package io.thinkstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.thinkstream.avro.PairKind;
import io.thinkstream.model.Scorer;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.model.multiturn.Conversation;
import io.thinkstream.model.multiturn.SinglePass;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A micro-batch's loss: the items grouped by objective, each objective's loss (DPO on OUTCOME and
 * JUDGE pairs, step-DPO on PIT pairs, SFT or SSFT on examples, single-pass SFT on multi-turn dialogues)
 * weighted and summed into one scalar for one backward pass.
 */
public final class Objectives {
  /** Objective weights and DPO temperatures; {@code ssft}: SFT examples train through SSFT matching. */
  public record Weights(double dpo, double dpoBeta, double pit, double pitBeta, double sft, boolean ssft,
      double latro, double latroBeta, double latroUnfinished) {
    public Weights(double dpo, double dpoBeta, double pit, double pitBeta, double sft, boolean ssft) {
      this(dpo, dpoBeta, pit, pitBeta, sft, ssft, 1, 0.05, -20);
    }

    static Weights of(TrainerConfig.Settings s) {
      return new Weights(s.dpoWeight(), s.dpoBeta(), s.pitWeight(), s.pitBeta(), s.sftWeight(), s.ssft(),
          s.latroWeight(), s.latroBeta(), s.latroUnfinishedReward());
    }
  }

  /** One problem's SSFT matching: its question under every tag, its correct traces, and match[tag] = trace or -1. */
  public record Matching(String problemId, List<int[]> prompts, List<int[]> traces, int[] match) {}

  /**
   * What a batch needs computed without gradient before the collector opens: the frozen
   * reference's log-probs of its pairs, and (SSFT) each problem's tag-to-trace matching under the policy.
   */
  public record References(Losses.Reference dpo, Losses.Reference pit, List<Matching> ssft, List<double[]> latro) {
    public References(Losses.Reference dpo, Losses.Reference pit, List<Matching> ssft) {
      this(dpo, pit, ssft, List.of());
    }
  }

  /** The summed weighted loss (a scalar in the step) and each objective's own loss. */
  public record Built(NDArray total, Map<String, NDArray> parts) {}

  private Objectives() {}

  static List<Losses.Preference> pairs(List<Item> items, boolean pit) {
    List<Losses.Preference> out = new ArrayList<>();
    for (Item i : items) {
      if (i instanceof Item.Pair p && (p.kind() == PairKind.PIT) == pit) {
        out.add(p.preference());
      }
    }
    return out;
  }

  public static References references(Transformer policy, Transformer reference, List<Item> items, Tokenizer tok,
      Weights w) {
    int pad = tok.padId();
    List<Losses.Preference> dpo = pairs(items, false);
    List<Losses.Preference> pit = pairs(items, true);
    return new References(dpo.isEmpty() ? null : Losses.reference(reference, dpo, pad),
        pit.isEmpty() ? null : Losses.reference(reference, pit, pad), w.ssft() ? matchings(policy, items, tok) : List.of(),
        items.stream().filter(i -> i instanceof Item.Latro).map(i -> Losses.logProbs(reference,
            ((Item.Latro) i).group().rationaleRows(), pad)).toList());
  }

  /**
   * SSFT (strategy tags as global forking tokens): the examples of each problem in the batch are
   * its correct traces; C[i][j] = mean NLL of trace j after the question under tag i, and the
   * Hungarian matching picks which tag trains on which trace.
   */
  static List<Matching> matchings(Transformer policy, List<Item> items, Tokenizer tok) {
    List<String> tags = new ArrayList<>();
    for (int i = 1; tok.tokenId(PromptFormat.tag(i)) >= 0; i++) {
      tags.add(PromptFormat.tag(i));
    }
    Map<String, List<Item.Example>> byProblem = new LinkedHashMap<>();
    for (Item i : items) {
      if (i instanceof Item.Example e) {
        byProblem.computeIfAbsent(e.problemId(), k -> new ArrayList<>()).add(e);
      }
    }
    List<Matching> out = new ArrayList<>();
    for (Map.Entry<String, List<Item.Example>> g : byProblem.entrySet()) {
      String question = g.getValue().get(0).question();
      List<int[]> prompts = new ArrayList<>();
      for (String tag : tags.isEmpty() ? java.util.Collections.<String>singletonList(null) : tags) {
        prompts.add(tok.encodeAfterBos(tag == null ? question : question + tag));
      }
      List<int[]> traces = g.getValue().stream().map(e -> e.example().continuation()).toList();
      int[] match = Hungarian.solve(Losses.costs(policy, prompts, traces, tok.padId()));
      out.add(new Matching(g.getKey(), prompts, traces, match));
    }
    return out;
  }

  public static Built build(Transformer policy, NDManager step, List<Item> items, References refs, Weights w, int pad) {
    Map<String, NDArray> parts = new LinkedHashMap<>();
    Map<String, Double> weights = new LinkedHashMap<>();
    List<Losses.Preference> dpo = pairs(items, false);
    if (!dpo.isEmpty()) {
      parts.put("dpo", Losses.dpo(policy, step, dpo, refs.dpo(), w.dpoBeta(), pad)); // ()
      weights.put("dpo", w.dpo());
    }
    List<Losses.Preference> pit = pairs(items, true);
    if (!pit.isEmpty()) {
      parts.put("pit", Losses.dpo(policy, step, pit, refs.pit(), w.pitBeta(), pad)); // ()
      weights.put("pit", w.pit());
    }
    List<Scorer.Pair> examples = new ArrayList<>();
    List<Conversation.Tokens> dialogues = new ArrayList<>();
    for (Item i : items) {
      if (i instanceof Item.Example e) {
        examples.add(e.example());
      } else if (i instanceof Item.Dialogue d) {
        dialogues.add(d.conversation());
      }
    }
    if (!examples.isEmpty() && !w.ssft()) {
      parts.put("sft", Losses.sft(policy, step, examples, pad)); // ()
      weights.put("sft", w.sft());
    }
    if (!examples.isEmpty() && w.ssft()) {
      List<Scorer.Pair> matched = new ArrayList<>();
      for (Matching m : refs.ssft()) {
        for (int i = 0; i < m.match().length; i++) {
          if (m.match()[i] >= 0) {
            matched.add(new Scorer.Pair(m.prompts().get(i), m.traces().get(m.match()[i])));
          }
        }
      }
      parts.put("ssft", Losses.sft(policy, step, matched, pad)); // () the SFT loss on the matched pairs
      weights.put("ssft", w.sft());
    }
    if (!dialogues.isEmpty()) {
      SinglePass.Rows rows = SinglePass.rows(dialogues, policy.config().maxPositions(), pad);
      parts.put("multiturn", SinglePass.loss(policy, step, rows)); // () one pass per conversation, not per turn
      weights.put("multiturn", w.sft());
    }
    List<Item.Latro> groups = items.stream().filter(i -> i instanceof Item.Latro).map(i -> (Item.Latro) i).toList();
    if (!groups.isEmpty()) {
      NDArray sum = null;
      for (int g = 0; g < groups.size(); g++) {
        NDArray l = Losses.latro(policy, step, groups.get(g).group(), refs.latro().get(g), w.latroBeta(),
            w.latroUnfinished(), pad); // ()
        sum = sum == null ? l : sum.add(l); // ()
      }
      parts.put("latro", sum.div(Losses.constant(step, groups.size(), policy.dataType()))); // () mean over problems
      weights.put("latro", w.latro());
    }
    NDArray total = null;
    for (Map.Entry<String, NDArray> e : parts.entrySet()) {
      NDArray weighted = e.getValue().mul(Losses.constant(step, weights.get(e.getKey()), policy.dataType())); // ()
      total = total == null ? weighted : total.add(weighted); // ()
    }
    if (total == null) {
      throw new IllegalArgumentException("a micro-batch without trainable items");
    }
    return new Built(total, parts);
  }
}
