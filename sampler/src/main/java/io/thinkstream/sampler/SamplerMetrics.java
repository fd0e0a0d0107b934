package io.thinkstream.sampler;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sampler's meters, registered on the process's one registry (Prometheus in the CLI), and the
 * console progress line of long runs. Kafka client metrics (consumer lag among them) are bound
 * by the service beside these.
 */
public final class SamplerMetrics {
  public static final String TOKENS = "thinkstream.sampler.tokens";
  public static final String SAMPLES = "thinkstream.sampler.samples";
  public static final String EXPLORE_RESULTS = "thinkstream.sampler.explore.results";
  public static final String BATCH_FILL = "thinkstream.sampler.batch.fill";
  public static final String QUEUE_WAIT = "thinkstream.sampler.queue.wait";
  public static final String RELOADS = "thinkstream.sampler.reloads";
  public static final String RELOADS_REFUSED = "thinkstream.sampler.reloads.refused";
  public static final String POLICY_VERSION = "thinkstream.sampler.policy.version";
  public static final String LAG = "thinkstream.sampler.lag";

  final Counter tokens;
  final Counter samples;
  final Counter exploreResults;
  final DistributionSummary batchFill;
  final Timer queueWait;
  final Counter reloads;
  final Counter refused;
  final AtomicLong policyVersion = new AtomicLong();
  final AtomicLong lag = new AtomicLong();
  private final MeterRegistry registry;

  private long lastPrintNanos = System.nanoTime();
  private double lastSamples;
  private double lastTokens;

  public SamplerMetrics(MeterRegistry registry) {
    this.registry = registry;
    tokens = Counter.builder(TOKENS).description("Tokens generated").register(registry);
    samples = Counter.builder(SAMPLES).description("Samples produced").register(registry);
    exploreResults = Counter.builder(EXPLORE_RESULTS).description("Exploration results produced").register(registry);
    batchFill = DistributionSummary.builder(BATCH_FILL).description("Sequences per generate call / sampler.batch.max")
        .register(registry);
    queueWait = Timer.builder(QUEUE_WAIT).description("From a problem's creation to the start of its generation")
        .register(registry);
    reloads = Counter.builder(RELOADS).description("Checkpoints loaded and swapped in").register(registry);
    refused = Counter.builder(RELOADS_REFUSED).description("Checkpoints refused (unreadable, corrupt, sha256 mismatch)")
        .register(registry);
    Gauge.builder(POLICY_VERSION, policyVersion, AtomicLong::get).description("Policy version now served").register(registry);
    Gauge.builder(LAG, lag, AtomicLong::get).description("Records of problems and explore-requests not yet read")
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public double samples() {
    return samples.count();
  }

  public double tokens() {
    return tokens.count();
  }

  public double refused() {
    return refused.count();
  }

  public double reloads() {
    return reloads.count();
  }

  /** Prints the progress line when {@code interval} has passed since the last one. */
  void maybePrint(PrintWriter out, long intervalNanos) {
    long now = System.nanoTime();
    if (out == null || now - lastPrintNanos < intervalNanos) {
      return;
    }
    double seconds = (now - lastPrintNanos) / 1e9;
    double s = samples.count();
    double t = tokens.count();
    out.printf("sampler: %.0f samples, %.1f samples/s, %.0f tokens/s, policy v%d, lag %d%n", s,
        (s - lastSamples) / seconds, (t - lastTokens) / seconds, policyVersion.get(), lag.get());
    out.flush();
    lastPrintNanos = now;
    lastSamples = s;
    lastTokens = t;
  }
}
