package io.thinkstream.model;

import ai.djl.ndarray.types.DataType;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code thinkstream bench model}: training tokens/s, and sampling tokens/s with the KV cache and
 * with full recomputation, on the demo model size (random weights: speed does not depend on them).
 * Sampling never stops early, so both paths produce exactly {@code newTokens} per row. Cached and
 * full runs alternate {@code repeats} times and the best of each counts: on a shared two-core
 * machine another process's burst otherwise lands on one side only and skews the ratio. The last
 * line printed is one JSON object.
 */
public final class ModelBench {
  public record Options(
      ModelConfig config, int batch, int promptLength, int newTokens, int trainSteps, int rowWidth, int repeats) {
    public static Options defaults() {
      return new Options(null, 8, 32, 128, 20, 256, 3);
    }
  }

  public record Result(
      String device, double trainTokensPerSecond, double sampleTokensPerSecondCached,
      double sampleTokensPerSecondFull, double kvSpeedup) {
    public String json() {
      return String.format(Locale.ROOT, "{\"device\": \"%s\", \"train_tokens_per_s\": %.1f, "
              + "\"sample_tokens_per_s_kv\": %.1f, \"sample_tokens_per_s_full\": %.1f, \"kv_speedup\": %.2f}",
          device, trainTokensPerSecond, sampleTokensPerSecondCached, sampleTokensPerSecondFull, kvSpeedup);
    }
  }

  private ModelBench() {}

  public static Result run(Options o, PrintStream out) {
    SyntheticTokenizer tok = new SyntheticTokenizer(8);
    ModelConfig config = o.config() != null ? o.config() : ModelConfig.demo(tok.vocabSize());
    try (Transformer model = Transformer.init(config, Transformer.defaultDevice(), DataType.FLOAT32, 1)) {
      out.printf("bench model: %s on %s, batch %d, prompt %d, %d new tokens%n",
          config, model.device(), o.batch(), o.promptLength(), o.newTokens());
      Generator gen = new Generator(model, tok);
      List<Generator.Request> requests = requests(o, config.vocabSize());
      SamplingParams params = new SamplingParams(1.0, 1, 0, o.newTokens(), List.of(), List.of());
      gen.generate(requests, params); // warm-up: natives, allocator, JIT
      double cached = 0;
      double full = 0;
      for (int i = 0; i < o.repeats(); i++) {
        cached = Math.max(cached, timeSampling(() -> gen.generate(requests, params), o));
        full = Math.max(full, timeSampling(() -> gen.generateWithoutCache(requests, params), o));
      }
      out.printf("sampling with KV cache:    %.1f tokens/s (best of %d)%n", cached, o.repeats());
      out.printf("sampling, full recompute:  %.1f tokens/s (best of %d)%n", full, o.repeats());
      double train = trainTokensPerSecond(model, o, config.vocabSize());
      out.printf("training:                  %.1f tokens/s%n", train);
      Result r = new Result(model.device().toString(), train, cached, full, cached / full);
      out.println(r.json());
      return r;
    }
  }

  private static double timeSampling(Runnable sample, Options o) {
    long t0 = System.nanoTime();
    sample.run();
    double seconds = (System.nanoTime() - t0) / 1e9;
    return o.batch() * (double) o.newTokens() / seconds;
  }

  private static List<Generator.Request> requests(Options o, int vocab) {
    SplittableRandom rnd = new SplittableRandom(7);
    List<Generator.Request> out = new ArrayList<>();
    for (int r = 0; r < o.batch(); r++) {
      int[] prompt = new int[o.promptLength()];
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = 4 + rnd.nextInt(vocab - 4);
      }
      out.add(new Generator.Request(prompt, r));
    }
    return out;
  }

  private static double trainTokensPerSecond(Transformer model, Options o, int vocab) {
    LmTrainer trainer = new LmTrainer(model, new LmTrainer.Schedule(1e-4f, 1, o.trainSteps() + 2), 0f);
    SplittableRandom rnd = new SplittableRandom(3);
    int[][] tokens = new int[o.batch()][o.rowWidth()];
    int[][] segments = new int[o.batch()][o.rowWidth()];
    int[][] targets = new int[o.batch()][o.rowWidth()];
    float[][] weights = new float[o.batch()][o.rowWidth()];
    for (int r = 0; r < o.batch(); r++) {
      for (int i = 0; i < o.rowWidth(); i++) {
        tokens[r][i] = rnd.nextInt(vocab);
        targets[r][i] = rnd.nextInt(vocab);
        segments[r][i] = 1;
        weights[r][i] = 1;
      }
    }
    LmTrainer.Batch batch = new LmTrainer.Batch(tokens, segments, targets, weights);
    trainer.step(batch); // warm-up
    long t0 = System.nanoTime();
    for (int i = 0; i < o.trainSteps(); i++) {
      trainer.step(batch);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return o.trainSteps() * (double) o.batch() * o.rowWidth() / seconds;
  }
}
