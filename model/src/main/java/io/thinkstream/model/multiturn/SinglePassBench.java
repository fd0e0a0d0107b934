package io.thinkstream.model.multiturn;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.tasks.SyntheticProblems;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code thinkstream bench single-pass}: for the same synthetic multi-turn conversations, the wall
 * time of one training epoch done single-pass ({@link SinglePass}: one forward and backward per
 * micro-batch) and N-pass ({@link NPass}: one per turn), on the demo model size in fp32. Next to
 * the speedup it prints the ratio of tokens the two process (N-pass / single-pass: the speedup to
 * expect when the dense layers dominate) and the largest relative difference between the two
 * losses on the same weights. Epochs alternate {@code repeats} times and the best of each counts,
 * so a burst from another process does not land on one side only. The last line is one JSON object.
 */
public final class SinglePassBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  public record Options(List<Integer> turns, int conversations, int batch, double reasoningShare, int repeats,
      ModelConfig config, long seed) {
    public Options {
      turns = List.copyOf(turns);
      if (turns.isEmpty() || turns.stream().anyMatch(t -> t < 1) || conversations < 1 || batch < 1 || repeats < 1) {
        throw new IllegalArgumentException("invalid bench options: turns " + turns + ", " + conversations
            + " conversations, batch " + batch + ", " + repeats + " repeats");
      }
    }

    public static Options defaults(List<Integer> turns) {
      return new Options(turns, 32, 8, 1.0, 3, null, 1);
    }
  }

  /** The figures of one turn count. */
  public record Point(int turns, double singleSeconds, double denseSeconds, double nPassSeconds, long singleTokens,
      long nPassTokens, double answerShare, double lossRelDiff) {
    /** N-pass time over single-pass time with block-sparse attention (the trainer's default). */
    public double speedup() {
      return nPassSeconds / singleSeconds;
    }

    /** The same with dense attention under the full mask: what skipping hidden blocks adds. */
    public double denseSpeedup() {
      return nPassSeconds / denseSeconds;
    }

    public double tokenRatio() {
      return nPassTokens / (double) singleTokens;
    }
  }

  public record Result(String device, List<Point> points) {
    public String json() {
      ObjectNode o = JSON.createObjectNode();
      ArrayNode turns = o.putArray("turns");
      ArrayNode speedup = o.putArray("speedup");
      ArrayNode ratio = o.putArray("token_ratio");
      ArrayNode share = o.putArray("speedup_over_token_ratio");
      ArrayNode dense = o.putArray("speedup_dense_attention");
      double maxDiff = 0;
      for (Point p : points) {
        turns.add(p.turns());
        speedup.add(round(p.speedup(), 3));
        ratio.add(round(p.tokenRatio(), 3));
        share.add(round(p.speedup() / p.tokenRatio(), 3));
        dense.add(round(p.denseSpeedup(), 3));
        maxDiff = Math.max(maxDiff, p.lossRelDiff());
      }
      o.put("max_loss_rel_diff", maxDiff);
      o.put("device", device);
      return o.toString();
    }

    private static double round(double x, int digits) {
      double f = Math.pow(10, digits);
      return Math.round(x * f) / f;
    }
  }

  private SinglePassBench() {}

  public static Result run(Options o, PrintStream out) {
    SyntheticTokenizer tok = new SyntheticTokenizer(8);
    ModelConfig config = o.config() != null ? o.config() : ModelConfig.demo(tok.vocabSize());
    SyntheticProblems.Settings settings = SyntheticProblems.Settings.defaults().withSteps("2..3");
    List<Point> points = new ArrayList<>();
    String device = null;
    for (int turns : o.turns()) {
      List<Conversation.Tokens> convs = new ArrayList<>();
      for (Conversation c : new SyntheticConversations(settings, o.seed(), o.reasoningShare()).take(o.conversations(), turns)) {
        convs.add(c.tokenize(tok));
      }
      List<SinglePass.Rows> single = new ArrayList<>();
      List<List<LmTrainer.Batch>> nPass = new ArrayList<>();
      long singleTokens = 0;
      long nPassTokens = 0;
      for (int i = 0; i < convs.size(); i += o.batch()) {
        List<Conversation.Tokens> chunk = convs.subList(i, Math.min(convs.size(), i + o.batch()));
        SinglePass.Rows rows = SinglePass.rows(chunk, config.maxPositions(), tok.padId());
        List<LmTrainer.Batch> batches = NPass.batches(chunk, config.maxPositions(), tok.padId());
        single.add(rows);
        nPass.add(batches);
        singleTokens += rows.realTokens();
        nPassTokens += NPass.realTokens(batches);
      }
      try (Transformer model = Transformer.init(config, Transformer.defaultDevice(), DataType.FLOAT32, o.seed())) {
        device = model.device().toString();
        double diff = lossRelDiff(model, single, nPass);
        LmTrainer trainer = new LmTrainer(model, new LmTrainer.Schedule(1e-5f, 1, 1_000_000), 0f);
        Runnable sparseEpoch = () -> single.forEach(rows -> trainer.step(List.of(SinglePass.part(model, rows))));
        Runnable denseEpoch = () -> single.forEach(rows -> trainer.step(List.of(new LmTrainer.Part(step -> SinglePass.denseSum(model, step, rows), rows.trainedTokens()))));
        Runnable nPassEpoch = () -> nPass.forEach(b -> trainer.step(NPass.lossParts(model, b)));
        trainer.step(List.of(SinglePass.part(model, single.get(0)))); // warm-up
        trainer.step(List.of(new LmTrainer.Part(step -> SinglePass.denseSum(model, step, single.get(0)), single.get(0).trainedTokens())));
        trainer.step(NPass.lossParts(model, nPass.get(0)));
        double bestSingle = Double.MAX_VALUE;
        double bestDense = Double.MAX_VALUE;
        double bestN = Double.MAX_VALUE;
        for (int r = 0; r < o.repeats(); r++) {
          bestSingle = Math.min(bestSingle, time(sparseEpoch));
          bestN = Math.min(bestN, time(nPassEpoch));
          bestDense = Math.min(bestDense, time(denseEpoch));
        }
        Point p = new Point(turns, bestSingle, bestDense, bestN, singleTokens, nPassTokens, answerShare(convs), diff);
        points.add(p);
        out.printf(Locale.ROOT, "%d turns, %d conversations: epoch single-pass %.2fs (dense attention %.2fs), N-pass %.2fs;"
                + " speedup %.2fx (dense %.2fx), token ratio %.2f (%d / %d tokens), answers %.0f%% of a turn,"
                + " loss rel diff %.1e%n",
            turns, convs.size(), bestSingle, bestDense, bestN, p.speedup(), p.denseSpeedup(), p.tokenRatio(),
            nPassTokens, singleTokens, 100 * p.answerShare(), diff);
      }
    }
    Result result = new Result(device, points);
    out.println(result.json());
    return result;
  }

  /** The largest |single - N-pass| / |N-pass| loss over the micro-batches, on the same weights. */
  private static double lossRelDiff(Transformer model, List<SinglePass.Rows> single, List<List<LmTrainer.Batch>> nPass) {
    double worst = 0;
    for (int i = 0; i < single.size(); i++) {
      try (NDManager step = model.newStepManager()) {
        double a = SinglePass.loss(model, step, single.get(i)).getFloat();
        double dense = SinglePass.denseLoss(model, step, single.get(i)).getFloat();
        double b = 0;
        for (var part : LmTrainer.normalised(NPass.lossParts(model, nPass.get(i)))) {
          b += part.apply(step).getFloat();
        }
        worst = Math.max(worst, Math.max(Math.abs(a - b), Math.abs(dense - b)) / Math.abs(b));
      }
    }
    return worst;
  }

  private static double answerShare(List<Conversation.Tokens> convs) {
    double sum = 0;
    int n = 0;
    for (Conversation.Tokens c : convs) {
      for (Conversation.TokenTurn t : c.turns()) {
        sum += t.answer().length / (double) (t.human().length + t.reasoning().length + t.answer().length);
        n++;
      }
    }
    return sum / n;
  }

  private static double time(Runnable epoch) {
    long t0 = System.nanoTime();
    epoch.run();
    return (System.nanoTime() - t0) / 1e9;
  }
}
