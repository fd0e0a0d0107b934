package io.thinkstream.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code thinkstream bench model}: training tokens/s, and sampling tokens/s with the KV cache and
 * with full recomputation, on the demo model size (random weights: speed does not depend on them).
 * Sampling never stops early, so both paths produce exactly {@code newTokens} per row. Cached and
 * full runs alternate {@code repeats} times and the best of each counts: on a shared two-core
 * machine another process's burst otherwise lands on one side only and skews the ratio. The last
 * line printed is one JSON object.
 *
 * <p>With a {@link Twin} ({@code --vs-pytorch}) the same weights are written as a checkpoint and
 * {@code bench/twin.py}, the PyTorch-eager twin of the model and of these sampling and training
 * loops, is started once, right after the warm-up; Java and PyTorch sampling runs, then training
 * runs, alternate {@code repeats} times each at the same intra-op thread count, before the
 * cached-against-full runs.
 */
public final class ModelBench {
  /** The PyTorch twin: the venv's python and the path of {@code bench/twin.py}. */
  public record Twin(Path python, Path script) {}

  /** {@code threads} 0 keeps libtorch's default; {@code twin} null skips the PyTorch comparison. */
  public record Options(
      ModelConfig config, int batch, int promptLength, int newTokens, int trainSteps, int rowWidth, int repeats,
      int threads, Twin twin) {
    public Options(ModelConfig config, int batch, int promptLength, int newTokens, int trainSteps, int rowWidth, int repeats) {
      this(config, batch, promptLength, newTokens, trainSteps, rowWidth, repeats, 0, null);
    }

    public static Options defaults() {
      return new Options(null, 8, 32, 128, 20, 256, 3);
    }

    public Options withThreads(int n) {
      return new Options(config, batch, promptLength, newTokens, trainSteps, rowWidth, repeats, n, twin);
    }

    public Options withRepeats(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("repeats must be at least 1, got " + n);
      }
      return new Options(config, batch, promptLength, newTokens, trainSteps, rowWidth, n, threads, twin);
    }

    public Options withTwin(Twin t) {
      return new Options(config, batch, promptLength, newTokens, trainSteps, rowWidth, repeats, threads, t);
    }
  }

  /**
   * Java and PyTorch tokens/s of each alternating sampling run and training run, and the torch
   * version the twin ran.
   */
  public record Versus(List<Double> java, List<Double> pytorch, List<Double> javaTrain, List<Double> pytorchTrain,
      String torch) {
    public double ratio() {
      return best(java) / best(pytorch);
    }

    public double trainRatio() {
      return best(javaTrain) / best(pytorchTrain);
    }

    /** The median of the per-run ratios: each compares two runs next to each other in time. */
    public double medianRatio() {
      return medianOfRatios(java, pytorch);
    }

    public double medianTrainRatio() {
      return medianOfRatios(javaTrain, pytorchTrain);
    }
  }

  /** The median of a.get(i) / b.get(i) (the mean of the middle two for an even count). */
  public static double medianOfRatios(List<Double> a, List<Double> b) {
    double[] r = new double[a.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = a.get(i) / b.get(i);
    }
    java.util.Arrays.sort(r);
    int n = r.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
  }

  public record Result(
      String device, int threads, double trainTokensPerSecond, double sampleTokensPerSecondCached,
      double sampleTokensPerSecondFull, double kvSpeedup, Versus versus) {
    public String json() {
      String base = String.format(Locale.ROOT, "{\"device\": \"%s\", \"threads\": %d, \"train_tokens_per_s\": %.1f, "
              + "\"sample_tokens_per_s_kv\": %.1f, \"sample_tokens_per_s_full\": %.1f, \"kv_speedup\": %.2f",
          device, threads, trainTokensPerSecond, sampleTokensPerSecondCached, sampleTokensPerSecondFull, kvSpeedup);
      if (versus == null) {
        return base + "}";
      }
      return base + String.format(Locale.ROOT, ", \"java_tokens_per_s\": %s, \"pytorch_tokens_per_s\": %s, "
          + "\"ratio_vs_pytorch\": %.3f, \"median_run_ratio_vs_pytorch\": %.3f, \"java_train_tokens_per_s\": %s, "
          + "\"pytorch_train_tokens_per_s\": %s, \"train_ratio_vs_pytorch\": %.3f, \"median_run_train_ratio_vs_pytorch\": %.3f, "
          + "\"torch\": \"%s\"}", list(versus.java()), list(versus.pytorch()), versus.ratio(), versus.medianRatio(),
          list(versus.javaTrain()), list(versus.pytorchTrain()), versus.trainRatio(), versus.medianTrainRatio(), versus.torch());
    }
  }

  /**
   * Untimed sampling runs before any timed one, on each side (the twin is told the same count).
   * The JIT compiles a call site with C2 only after thousands of calls, and a generation makes
   * about 500 per layer call site, so the Java side reaches its steady rate only after some 20-30
   * generations (measured: ~180 ms per generation falling to ~130 ms over the first 35).
   */
  static final int WARMUPS = 30;

  /**
   * Generations per timed sampling run against the twin, on each side: one generation takes about
   * a quarter of a second, short enough for a momentary slowdown of the shared machine to swing
   * a single run by a fifth. A run's generations interleave with the twin's, one Java generation
   * then one PyTorch generation, so both sides' runs span the same stretch of time: the two-core
   * machines change speed by up to twofold within seconds, and a run on one side that fell in a
   * fast or a slow stretch alone decided whole comparisons.
   */
  static final int GENERATIONS_PER_RUN = 4;

  /** Training runs interleave the same way, in this many slices of {@code trainSteps / TRAIN_SLICES} steps. */
  static final int TRAIN_SLICES = 4;

  /** The most time a warm-up goes on waiting for the JIT to settle. */
  private static final long MAX_WARMUP_NANOS = 90_000_000_000L;

  /**
   * Runs {@code work} untimed at least {@code min} times, then on until the JIT compiled for under
   * a twentieth of the last run's wall time (its compiler threads share the two cores with the
   * timed work), or {@link #MAX_WARMUP_NANOS} have passed; prints how it ended.
   */
  private static void warmUp(String what, Runnable work, int min, PrintStream out) {
    var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    boolean measurable = jit != null && jit.isCompilationTimeMonitoringSupported();
    long start = System.nanoTime();
    double share = Double.NaN;
    int runs = 0;
    while (runs < min || (measurable && share >= 0.05 && System.nanoTime() - start < MAX_WARMUP_NANOS)) {
      long t0 = System.nanoTime();
      long compiled = measurable ? jit.getTotalCompilationTime() : 0;
      work.run();
      runs++;
      share = measurable ? (jit.getTotalCompilationTime() - compiled) / ((System.nanoTime() - t0) / 1e6) : Double.NaN;
    }
    out.printf("%s warm-up: %d untimed runs in %.1f s, the JIT compiling %.0f%% of the last%n",
        what, runs, (System.nanoTime() - start) / 1e9, 100 * share);
  }

  private ModelBench() {}

  public static Result run(Options o, PrintStream out) {
    Engine.getInstance(); // loads libtorch, which the thread setting needs
    if (o.threads() > 0) {
      JniUtils.setNumThreads(o.threads());
    }
    SyntheticTokenizer tok = new SyntheticTokenizer(8);
    ModelConfig config = o.config() != null ? o.config() : ModelConfig.demo(tok.vocabSize());
    try (Transformer model = Transformer.init(config, Transformer.defaultDevice(), DataType.FLOAT32, 1)) {
      int threads = JniUtils.getNumThreads();
      out.printf("bench model: %s on %s, batch %d, prompt %d, %d new tokens, %d intra-op threads%n",
          config, model.device(), o.batch(), o.promptLength(), o.newTokens(), threads);
      Generator gen = new Generator(model, tok);
      List<Generator.Request> requests = requests(o, config.vocabSize());
      SamplingParams params = new SamplingParams(1.0, 1, 0, o.newTokens(), List.of(), List.of());
      warmUp("sampling", () -> gen.generate(requests, params), WARMUPS, out);
      // The comparison with PyTorch comes first, straight after the warm-up: a full-recompute run
      // leaves the cached path some 10-20% slower for the next ten or so generations (measured),
      // which would land on the Java side of the comparison only.
      Training training = new Training(model, o);
      Versus versus = o.twin() == null ? null
          : versus(model, tok, o, threads, () -> gen.generate(requests, params), training, out);
      double cached = 0;
      double full = 0;
      for (int i = 0; i < o.repeats(); i++) {
        cached = Math.max(cached, timeSampling(() -> gen.generate(requests, params), o));
        full = Math.max(full, timeSampling(() -> gen.generateWithoutCache(requests, params), o));
      }
      out.printf("sampling with KV cache:    %.1f tokens/s (best of %d)%n", cached, o.repeats());
      out.printf("sampling, full recompute:  %.1f tokens/s (best of %d)%n", full, o.repeats());
      if (versus == null) {
        training.warmUp(out);
      }
      double train = versus == null ? training.tokensPerSecond() : best(versus.javaTrain());
      out.printf("training:                  %.1f tokens/s%n", train);
      Result r = new Result(model.device().toString(), threads, train, cached, full, cached / full, versus);
      out.println(r.json());
      return r;
    }
  }

  /**
   * Alternates Java KV-cache sampling with the PyTorch twin's, then Java training steps with the
   * twin's, same weights, same thread count.
   */
  private static Versus versus(Transformer model, Tokenizer tok, Options o, int threads, Runnable sample,
      Training training, PrintStream out) {
    Twin twin = o.twin();
    if (!Files.isExecutable(twin.python())) {
      throw new IllegalArgumentException("no python at " + twin.python() + "; set up the twin's venv with: "
          + "python3 -m venv bench/.venv && bench/.venv/bin/pip install torch   (or pass --python PATH)");
    }
    if (!Files.isRegularFile(twin.script())) {
      throw new IllegalArgumentException("the PyTorch twin " + twin.script() + " is missing (run from the repository root)");
    }
    Path dir = null;
    try {
      dir = Files.createTempDirectory("thinkstream-bench-model-");
      Checkpoints.save(model, tok, dir);
      List<String> command = List.of(twin.python().toString(), twin.script().toString(), "--checkpoint", dir.toString(),
          "--threads", String.valueOf(threads), "--batch", String.valueOf(o.batch()), "--prompt",
          String.valueOf(o.promptLength()), "--new-tokens", String.valueOf(o.newTokens()), "--warmup", String.valueOf(WARMUPS),
          "--generations", "1", "--train-width", String.valueOf(o.rowWidth()), "--train-steps", String.valueOf(trainSlice(o)), "--serve");
      Process py = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try (BufferedReader in = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
           Writer cmd = new java.io.OutputStreamWriter(py.getOutputStream(), StandardCharsets.UTF_8)) {
        JsonNode ready = reply(in, command);
        out.printf("pytorch twin: torch %s, BLAS %s, %d intra-op threads (java: %d)%n",
            ready.path("torch").asText(), ready.path("blas").asText(), ready.path("threads").asInt(), threads);
        sample.run(); // the Java side sat idle through the twin's warm-up; the twin's first run follows its own
        List<Double> java = new ArrayList<>();
        List<Double> pytorch = new ArrayList<>();
        double tokens = o.batch() * (double) o.newTokens();
        for (int i = 0; i < o.repeats(); i++) {
          double javaSeconds = 0;
          double pytorchSeconds = 0;
          for (int g = 0; g < GENERATIONS_PER_RUN; g++) {
            javaSeconds += seconds(sample);
            pytorchSeconds += tokens / ask(cmd, in, command, "run", "tokens_per_s");
          }
          java.add(GENERATIONS_PER_RUN * tokens / javaSeconds);
          pytorch.add(GENERATIONS_PER_RUN * tokens / pytorchSeconds);
          out.printf("run %d: java %.1f tokens/s, pytorch eager %.1f tokens/s, ratio %.3f%n",
              i + 1, java.get(i), pytorch.get(i), java.get(i) / pytorch.get(i));
        }
        training.warmUp(out);
        List<Double> javaTrain = new ArrayList<>();
        List<Double> pytorchTrain = new ArrayList<>();
        double stepTokens = o.batch() * (double) o.rowWidth() * trainSlice(o);
        for (int i = 0; i < o.repeats(); i++) {
          double javaSeconds = 0;
          double pytorchSeconds = 0;
          for (int slice = 0; slice < TRAIN_SLICES; slice++) {
            javaSeconds += training.seconds(trainSlice(o));
            pytorchSeconds += stepTokens / ask(cmd, in, command, "train", "train_tokens_per_s");
          }
          javaTrain.add(TRAIN_SLICES * stepTokens / javaSeconds);
          pytorchTrain.add(TRAIN_SLICES * stepTokens / pytorchSeconds);
          out.printf("train run %d: java %.1f tokens/s, pytorch eager %.1f tokens/s, ratio %.3f%n",
              i + 1, javaTrain.get(i), pytorchTrain.get(i), javaTrain.get(i) / pytorchTrain.get(i));
        }
        cmd.write("quit\n");
        cmd.flush();
        Versus v = new Versus(java, pytorch, javaTrain, pytorchTrain, ready.path("torch").asText());
        out.printf("java vs pytorch eager sampling (best of %d each): %.1f / %.1f tokens/s = %.3fx; median run ratio %.3f%n",
            o.repeats(), best(java), best(pytorch), v.ratio(), v.medianRatio());
        out.printf("java vs pytorch eager training (best of %d each): %.1f / %.1f tokens/s = %.3fx; median run ratio %.3f%n",
            o.repeats(), best(javaTrain), best(pytorchTrain), v.trainRatio(), v.medianTrainRatio());
        return v;
      } finally {
        py.destroy();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run the PyTorch twin", e);
    } finally {
      deleteTree(dir);
    }
  }

  /** Timed steps per training slice: {@code trainSteps} split over {@link #TRAIN_SLICES}, at least one. */
  private static int trainSlice(Options o) {
    return Math.max(1, o.trainSteps() / TRAIN_SLICES);
  }

  /** Sends the twin one command line and returns the figure {@code field} of its reply. */
  private static double ask(Writer cmd, BufferedReader in, List<String> command, String line, String field)
      throws IOException {
    cmd.write(line + "\n");
    cmd.flush();
    return reply(in, command).path(field).asDouble();
  }

  private static JsonNode reply(BufferedReader in, List<String> command) throws IOException {
    String line = in.readLine();
    if (line == null) {
      throw new IllegalStateException("the PyTorch twin exited early: " + String.join(" ", command));
    }
    return new ObjectMapper().readTree(line);
  }

  private static void deleteTree(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  private static double best(List<Double> runs) {
    return runs.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  private static String list(List<Double> runs) {
    return runs.stream().map(r -> String.format(Locale.ROOT, "%.1f", r)).collect(Collectors.joining(", ", "[", "]"));
  }

  /** Tokens/s of one generation, {@code sample}. */
  private static double timeSampling(Runnable sample, Options o) {
    return o.batch() * (double) o.newTokens() / seconds(sample);
  }

  /** The wall-clock seconds {@code work} takes. */
  private static double seconds(Runnable work) {
    long t0 = System.nanoTime();
    work.run();
    return (System.nanoTime() - t0) / 1e9;
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

  /**
   * The timed training step: one {@link LmTrainer} (the flat {@link AdamW}, with the settings
   * the twin copies) over one random batch of {@code batch} rows of
   * {@code rowWidth} tokens (one segment per row, every next-token loss counted), kept across runs
   * as the twin keeps its optimizer. Each run is one untimed step, then {@code trainSteps} timed.
   */
  private static final class Training {
    private final LmTrainer trainer;
    private final LmTrainer.Batch batch;
    private final Options o;

    Training(Transformer model, Options o) {
      this.o = o;
      // the trainer's defaults (TrainerConfig): betas (0.9, 0.95), decay 0.01 off norms and embeddings, clip 1.0
      this.trainer = new LmTrainer(model, new AdamW.Settings(new LmTrainer.Schedule(1e-4f, 1, o.trainSteps() + 2),
          0.9, 0.95, 1e-8, 0.01, 1.0, false));
      int vocab = model.config().vocabSize();
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
      this.batch = new LmTrainer.Batch(tokens, segments, targets, weights);
    }

    /** Untimed steps until the JIT has settled on the training path. */
    void warmUp(PrintStream out) {
      ModelBench.warmUp("training", () -> trainer.step(batch), 2, out);
    }

    double tokensPerSecond() {
      return o.trainSteps() * (double) o.batch() * o.rowWidth() / seconds(o.trainSteps());
    }

    /** One untimed step, then the seconds of {@code steps} timed ones (as the twin times a "train" line). */
    double seconds(int steps) {
      trainer.step(batch); // warm-up
      return ModelBench.seconds(() -> {
        for (int i = 0; i < steps; i++) {
          trainer.step(batch);
        }
      });
    }
  }
}
