package io.thinkstream.model.multiturn;

import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.Transformer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The reference that {@link SinglePass} must match: one causal forward pass per turn, over
 * H_1 A_1 … H_{t-1} A_{t-1} H_t T_t R_t A_t — earlier tags and reasoning removed — training R_t and
 * A_t only (T_t, the strategy tag, is context).
 * Turn t of every conversation that has one goes into the same padded batch, so an epoch costs
 * one forward and backward per turn index.
 */
public final class NPass {
  private NPass() {}

  /** One causal batch per turn index t: the turn-t sequences of the conversations with a turn t. */
  public static List<LmTrainer.Batch> batches(List<Conversation.Tokens> conversations, int maxPositions, int pad) {
    conversations.forEach(c -> c.requirePositions(maxPositions));
    int turns = conversations.stream().mapToInt(c -> c.turns().size()).max().orElseThrow();
    List<LmTrainer.Batch> out = new ArrayList<>(turns);
    for (int t = 0; t < turns; t++) {
      List<int[]> seqs = new ArrayList<>();
      List<Integer> firstTrained = new ArrayList<>();
      for (Conversation.Tokens c : conversations) {
        if (t < c.turns().size()) {
          int[] context = c.context(t);
          Conversation.TokenTurn turn = c.turns().get(t);
          seqs.add(Conversation.concat(context, turn.reasoning(), turn.answer()));
          firstTrained.add(context.length - 1); // predicts the turn's first R or A token
        }
      }
      out.add(batch(seqs, firstTrained, pad));
    }
    return out;
  }

  /**
   * The loss as one part per turn index: each part is its turn's summed NLL over its trained tokens;
   * {@link LmTrainer#step(List)} divides every part by the tokens of all turns, so the parts add up
   * to the mean loss over every trained token — the same normalisation as the single-pass loss.
   */
  public static List<LmTrainer.Part> lossParts(Transformer model, List<LmTrainer.Batch> batches) {
    List<LmTrainer.Part> parts = new ArrayList<>();
    for (LmTrainer.Batch b : batches) {
      parts.add(new LmTrainer.Part(step -> LmTrainer.sum(model, step, b), b.trainedTokens())); // ()
    }
    return parts;
  }

  /** Tokens the N-pass processes (padding aside): every turn re-reads its whole visible prefix. */
  public static long realTokens(List<LmTrainer.Batch> batches) {
    return batches.stream().mapToLong(LmTrainer.Batch::realTokens).sum();
  }

  private static LmTrainer.Batch batch(List<int[]> seqs, List<Integer> firstTrained, int pad) {
    int width = seqs.stream().mapToInt(s -> s.length).max().orElseThrow();
    int b = seqs.size();
    int[][] tokens = new int[b][width];
    int[][] segments = new int[b][width];
    int[][] targets = new int[b][width];
    float[][] weights = new float[b][width];
    for (int r = 0; r < b; r++) {
      int[] seq = seqs.get(r);
      Arrays.fill(tokens[r], pad);
      System.arraycopy(seq, 0, tokens[r], 0, seq.length);
      Arrays.fill(segments[r], 0, seq.length, 1);
      for (int i = firstTrained.get(r); i + 1 < seq.length; i++) {
        targets[r][i] = seq[i + 1];
        weights[r][i] = 1f;
      }
    }
    return new LmTrainer.Batch(tokens, segments, targets, weights);
  }
}
