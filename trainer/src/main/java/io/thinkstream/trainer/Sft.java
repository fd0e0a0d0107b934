package io.thinkstream.trainer;

import ai.djl.ndarray.types.DataType;
import io.thinkstream.avro.Problem;
import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.Generation;
import io.thinkstream.model.Generator;
import io.thinkstream.model.LmTrainer;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SamplingParams;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.schemas.text.FinalAnswer;
import io.thinkstream.schemas.text.PromptFormat;
import io.thinkstream.tasks.SyntheticProblems;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Supervised warm start of the demo policy: trains a fresh model with the built-in tokenizer on
 * synthetic problems' gold (story-order) solutions, reports a held-out greedy accuracy and writes
 * an HF-format checkpoint. {@code thinkstream sft} is a thin CLI over {@link #run}.
 *
 * <p>An example is the {@link Tokenizer#encodePrompt} ({@code <bos>question\n<thinkI>}, no loss)
 * followed by {@code solution<eos>} (loss), in {@link PromptFormat}'s layout; sampling uses the
 * same prompt. Examples are packed into rows with a segment mask; held-out problems come from
 * another seed and never appear in training.
 */
public final class Sft {
  /** Everything {@code thinkstream sft} can set; {@link #defaults(Path)} is the demo's setting. */
  public record Options(
      Path out,
      int steps,
      ModelConfig config,
      int strategies,
      String problemSteps,
      int maxNumber,
      int batchRows,
      int rowWidth,
      float learningRate,
      int trainProblems,
      int heldOut,
      long seed) {
    public Options {
      if (steps < 1 || batchRows < 1 || rowWidth < 16 || heldOut < 0 || trainProblems < 1) {
        throw new IllegalArgumentException("invalid SFT options " + steps + " steps, " + batchRows + " rows of "
            + rowWidth + ", " + trainProblems + " problems, " + heldOut + " held out");
      }
    }

    public Options withSteps(int n) {
      return new Options(out, n, config, strategies, problemSteps, maxNumber, batchRows, rowWidth, learningRate,
          trainProblems, heldOut, seed);
    }

    public Options withConfig(ModelConfig c) {
      return new Options(out, steps, c, strategies, problemSteps, maxNumber, batchRows, rowWidth, learningRate,
          trainProblems, heldOut, seed);
    }

    public Options withHeldOut(int n) {
      return new Options(out, steps, config, strategies, problemSteps, maxNumber, batchRows, rowWidth, learningRate,
          trainProblems, n, seed);
    }
  }

  /** What a run produced and measured. */
  public record Result(
      Path checkpoint, String sha256, int steps, double finalLoss, double tokensPerSecond,
      double heldOutAccuracy, int heldOutProblems, Duration trainTime, Duration totalTime) {}

  /** The demo's warm start: 2-step problems, numbers up to 50, the demo model size. */
  public static Options defaults(Path out) {
    return new Options(out, 1500, null, 8, "2", 50, 8, 256, 2e-3f, 50_000, 200, 1);
  }

  private Sft() {}

  /**
   * The strategy tag SFT gives problem {@code index}: tags take turns, and tag i is trained on the
   * problem's solution style {@code (i - 1) mod styles}, so each tag starts out meaning one way of
   * combining the quantities (the SSFT loss later lets the tags find their own meanings).
   */
  static String tagFor(long index, int strategies) {
    return strategies == 0 ? null : PromptFormat.tag((int) (index % strategies) + 1);
  }

  public static Result run(Options o, PrintStream progress) {
    long start = System.nanoTime();
    SyntheticTokenizer tok = new SyntheticTokenizer(o.strategies());
    ModelConfig config = o.config() != null ? o.config() : ModelConfig.demo(tok.vocabSize());
    if (config.vocabSize() != tok.vocabSize()) {
      throw new IllegalArgumentException("config vocab_size " + config.vocabSize() + " != tokenizer's " + tok.vocabSize());
    }
    SyntheticProblems.Settings settings = new SyntheticProblems.Settings(2, 4, o.maxNumber(),
        SyntheticProblems.Settings.defaults().ops()).withSteps(o.problemSteps());
    List<Problem> heldOut = problems(settings, o.seed() + 1_000_003, o.heldOut());
    Set<String> heldOutQuestions = new HashSet<>();
    heldOut.forEach(p -> heldOutQuestions.add(p.getQuestion()));
    List<Packer.Example> train = new ArrayList<>();
    List<Problem> trainProblems = problems(settings, o.seed(), o.trainProblems());
    for (int i = 0; i < trainProblems.size(); i++) {
      Problem p = trainProblems.get(i);
      if (!heldOutQuestions.contains(p.getQuestion())) {
        String tag = tagFor(i, o.strategies());
        int style = tag == null ? 0 : (PromptFormat.tagIndex(tag).getAsInt() - 1) % p.getSolutions().size();
        int[] prompt = tok.encodePrompt(p.getQuestion(), tag);
        int[] answer = tok.encode(p.getSolutions().get(style).getText());
        int[] tokens = new int[prompt.length + answer.length + 1];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        System.arraycopy(answer, 0, tokens, prompt.length, answer.length);
        tokens[tokens.length - 1] = tok.eosId();
        train.add(new Packer.Example(tokens, prompt.length));
      }
    }
    progress.printf("sft: %d training problems (%s steps), %d held out, model %s on %s%n",
        train.size(), o.problemSteps(), heldOut.size(), config, Transformer.defaultDevice());
    try (Transformer model = Transformer.init(config, Transformer.defaultDevice(), DataType.FLOAT32, o.seed())) {
      LmTrainer trainer = new LmTrainer(model, new LmTrainer.Schedule(o.learningRate(), Math.min(100, o.steps() / 10 + 1),
          o.steps()), 0.01f);
      ProgressBar bar = new ProgressBar(progress, o.steps());
      int[] cursor = {0};
      long tokens = 0;
      double loss = Double.NaN;
      double smooth = Double.NaN;
      long trainStart = System.nanoTime();
      for (int step = 1; step <= o.steps(); step++) {
        LmTrainer.Batch batch = Packer.pack(train, cursor, o.batchRows(), o.rowWidth(), tok.padId());
        loss = trainer.step(batch);
        smooth = Double.isNaN(smooth) ? loss : 0.95 * smooth + 0.05 * loss;
        tokens += batch.realTokens();
        bar.update(step, smooth, tokens);
      }
      bar.done();
      Duration trainTime = Duration.ofNanos(System.nanoTime() - trainStart);
      double accuracy = heldOut.isEmpty() ? Double.NaN : accuracy(model, tok, heldOut, progress);
      Checkpoints.Written written = Checkpoints.save(model, tok, o.out());
      Result r = new Result(o.out(), written.sha256(), o.steps(), loss, tokens / Math.max(1e-9, trainTime.toNanos() / 1e9),
          accuracy, heldOut.size(), trainTime, Duration.ofNanos(System.nanoTime() - start));
      progress.printf("sft: held-out greedy accuracy %.1f%% (%d problems), final loss %.3f, %.0f tokens/s, "
              + "train %ds; checkpoint %s (sha256 %s)%n",
          100 * accuracy, heldOut.size(), loss, r.tokensPerSecond(), trainTime.toSeconds(), o.out(), written.sha256());
      return r;
    }
  }

  /** Greedy pass@1 under tag {@code <think1>} on {@code problems}: the one final-answer extractor against gold. */
  public static double accuracy(Transformer model, Tokenizer tok, List<Problem> problems, PrintStream progress) {
    Generator gen = new Generator(model, tok);
    int correct = 0;
    int batch = 32;
    for (int i = 0; i < problems.size(); i += batch) {
      List<Problem> chunk = problems.subList(i, Math.min(problems.size(), i + batch));
      List<Generator.Request> requests = new ArrayList<>();
      int longest = 0;
      for (Problem p : chunk) {
        int[] prompt = tok.encodePrompt(p.getQuestion(), tok.tokenId(PromptFormat.tag(1)) < 0 ? null : PromptFormat.tag(1));
        longest = Math.max(longest, prompt.length);
        requests.add(new Generator.Request(prompt, 0));
      }
      int room = Math.min(192, model.config().maxPositions() - longest);
      List<Generation> out = gen.generate(requests, SamplingParams.greedy(room, tok.eosId()));
      for (int k = 0; k < chunk.size(); k++) {
        if (FinalAnswer.extract(out.get(k).text()).matches(chunk.get(k).getGoldAnswer())) {
          correct++;
        }
      }
    }
    return problems.isEmpty() ? Double.NaN : correct / (double) problems.size();
  }

  static List<Problem> problems(SyntheticProblems.Settings settings, long seed, int n) {
    return new SyntheticProblems(settings, seed, Clock.systemUTC()).first(n);
  }
}
