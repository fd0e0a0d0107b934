package io.thinkstream.evaluator;

import io.thinkstream.avro.Evaluation;
import io.thinkstream.avro.Problem;
import io.thinkstream.model.Generation;
import io.thinkstream.model.Generator;
import io.thinkstream.model.SamplingParams;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.Transformer;
import io.thinkstream.schemas.text.FinalAnswer;
import io.thinkstream.schemas.text.PromptFormat;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores one model on one suite: greedy pass@1 under the first strategy tag, then
 * {@code samples} completions per problem at the sampling temperature with the strategy tags
 * taking turns, from which maj@k (the first k), pass@k (unbiased estimator over all n),
 * per-tag accuracy and mean length, and distinct correct paths per problem are computed. Seeds
 * derive from (version, problem, sample), so re-evaluating a version reproduces its numbers.
 */
public final class SuiteRunner {
  /** Untagged completions are reported under this name when the tokenizer has no strategy tags. */
  public static final String UNTAGGED = "untagged";

  private final Transformer model;
  private final Tokenizer tokenizer;
  private final EvaluatorConfig.Settings settings;
  private final List<String> tags;

  public SuiteRunner(Transformer model, Tokenizer tokenizer, EvaluatorConfig.Settings settings) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.settings = settings;
    this.tags = tags(tokenizer);
  }

  /** The strategy tags the tokenizer knows, {@code <think1>} upwards. */
  static List<String> tags(Tokenizer tokenizer) {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= 1024 && tokenizer.tokenId(PromptFormat.tag(i)) >= 0; i++) {
      out.add(PromptFormat.tag(i));
    }
    return out;
  }

  public Evaluation run(Suite suite, long version, String sha256, Clock clock) {
    List<Problem> problems = suite.problems();
    int n = settings.samples();
    int k = settings.k();

    String greedyTag = tags.isEmpty() ? null : tags.get(0);
    List<Generator.Request> greedy = new ArrayList<>();
    for (Problem p : problems) {
      greedy.add(new Generator.Request(tokenizer.encodePrompt(p.getQuestion(), greedyTag), 0));
    }
    List<Generation> greedyOut = generate(greedy, 0.0);
    int greedyCorrect = 0;
    for (int i = 0; i < problems.size(); i++) {
      greedyCorrect += FinalAnswer.extract(greedyOut.get(i).text()).matches(problems.get(i).getGoldAnswer()) ? 1 : 0;
    }

    List<Generator.Request> sampled = new ArrayList<>();
    for (int i = 0; i < problems.size(); i++) {
      for (int j = 0; j < n; j++) {
        sampled.add(new Generator.Request(tokenizer.encodePrompt(problems.get(i).getQuestion(), tagOf(j)), seed(version, i, j)));
      }
    }
    List<Generation> out = generate(sampled, settings.temperature());

    double passK = 0;
    double majK = 0;
    double paths = 0;
    Map<String, int[]> perTag = new LinkedHashMap<>(); // tag -> {samples, correct, tokens}
    for (int i = 0; i < problems.size(); i++) {
      String gold = problems.get(i).getGoldAnswer();
      List<String> texts = new ArrayList<>();
      List<List<String>> correctSteps = new ArrayList<>();
      int correct = 0;
      for (int j = 0; j < n; j++) {
        Generation g = out.get(i * n + j);
        boolean ok = FinalAnswer.extract(g.text()).matches(gold);
        texts.add(g.text());
        if (ok) {
          correct++;
          correctSteps.add(PromptFormat.split(g.text()).steps());
        }
        int[] t = perTag.computeIfAbsent(tagOf(j) == null ? UNTAGGED : tagOf(j), x -> new int[3]);
        t[0]++;
        t[1] += ok ? 1 : 0;
        t[2] += completionTokens(g);
      }
      passK += Estimators.passAtK(n, correct, k);
      majK += Estimators.majorityCorrect(texts.subList(0, k), gold) ? 1 : 0;
      paths += Estimators.distinctPaths(correctSteps);
    }
    Map<String, Double> accuracy = new LinkedHashMap<>();
    Map<String, Double> meanTokens = new LinkedHashMap<>();
    perTag.forEach((tag, t) -> {
      accuracy.put(tag, t[1] / (double) t[0]);
      meanTokens.put(tag, t[2] / (double) t[0]);
    });
    double size = problems.size();
    return Evaluation.newBuilder()
        .setVersion(version).setSuite(suite.name()).setN(problems.size()).setK(k)
        .setGreedyPass1(greedyCorrect / size).setMajK(majK / size).setPassK(passK / size)
        .setPerStrategyAccuracy(accuracy).setPerStrategyMeanTokens(meanTokens).setDiversity(paths / size)
        .setSamplesPerProblem(n).setTemperature(settings.temperature()).setCheckpointSha256(sha256)
        .setCreatedAt(clock.instant()).build();
  }

  private String tagOf(int sample) {
    return tags.isEmpty() ? null : tags.get(sample % tags.size());
  }

  /** Generated tokens without the stop token. */
  private static int completionTokens(Generation g) {
    return g.tokens().length - (g.finish() == Generation.Finish.STOP_TOKEN ? 1 : 0);
  }

  private static long seed(long version, int problem, int sample) {
    long h = version * 0x9E3779B97F4A7C15L + problem * 0xC2B2AE3D27D4EB4FL + sample;
    return h ^ (h >>> 31);
  }

  /** Generates in batches; each batch's budget is capped so the longest prompt still fits the model. */
  private List<Generation> generate(List<Generator.Request> requests, double temperature) {
    Generator generator = new Generator(model, tokenizer);
    List<Generation> out = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i += settings.batchSize()) {
      List<Generator.Request> batch = requests.subList(i, Math.min(requests.size(), i + settings.batchSize()));
      int longest = batch.stream().mapToInt(r -> r.prompt().length).max().orElse(0);
      int room = Math.min(settings.maxNewTokens(), model.config().maxPositions() - longest);
      if (room < 1) {
        throw new IllegalArgumentException("a prompt of " + longest + " tokens leaves no room to generate in the model's "
            + model.config().maxPositions() + " positions");
      }
      SamplingParams params = temperature == 0
          ? SamplingParams.greedy(room, tokenizer.eosId())
          : SamplingParams.sample(temperature, room, tokenizer.eosId());
      out.addAll(generator.generate(batch, params));
    }
    return out;
  }
}
