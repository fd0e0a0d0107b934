package io.thinkstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.thinkstream.avro.PairKind;
import io.thinkstream.model.Scorer;
import io.thinkstream.model.Transformer;
import io.thinkstream.model.multiturn.Conversation;
import io.thinkstream.model.multiturn.SinglePass;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A micro-batch's loss: the items grouped by objective, each objective's loss (DPO on OUTCOME and
 * JUDGE pairs, step-DPO on PIT pairs, SFT on examples, single-pass SFT on multi-turn dialogues)
 * weighted and summed into one scalar for one backward pass.
 */
public final class Objectives {
  /** Objective weights and DPO temperatures. */
  public record Weights(double dpo, double dpoBeta, double pit, double pitBeta, double sft) {
    static Weights of(TrainerConfig.Settings s) {
      return new Weights(s.dpoWeight(), s.dpoBeta(), s.pitWeight(), s.pitBeta(), s.sftWeight());
    }
  }

  /** The frozen reference's log-probs of a batch's pairs, by objective; computed before the collector opens. */
  public record References(Losses.Reference dpo, Losses.Reference pit) {}

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

  public static References references(Transformer reference, List<Item> items, int pad) {
    List<Losses.Preference> dpo = pairs(items, false);
    List<Losses.Preference> pit = pairs(items, true);
    return new References(dpo.isEmpty() ? null : Losses.reference(reference, dpo, pad),
        pit.isEmpty() ? null : Losses.reference(reference, pit, pad));
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
    if (!examples.isEmpty()) {
      parts.put("sft", Losses.sft(policy, step, examples, pad)); // ()
      weights.put("sft", w.sft());
    }
    if (!dialogues.isEmpty()) {
      SinglePass.Rows rows = SinglePass.rows(dialogues, policy.config().maxPositions(), pad);
      parts.put("multiturn", SinglePass.loss(policy, step, rows)); // () one pass per conversation, not per turn
      weights.put("multiturn", w.sft());
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
