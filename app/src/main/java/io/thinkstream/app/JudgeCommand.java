package io.thinkstream.app;

import io.thinkstream.streams.Judge;
import io.thinkstream.streams.JudgeWorker;
import io.thinkstream.streams.RewardsConfig;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs judge workers as a process of their own (judge-requests → judge-results), for a rewards
 * service started with {@code judge.worker=none}; several processes share the work as one
 * consumer group ({@code judge.worker.group.id}).
 */
@Command(name = "judge", mixinStandardHelpOptions = true,
    description = {"Run a judge worker: judge-requests in, judge-results out, until SIGINT/SIGTERM.",
        "Settings: judge, judge.url, judge.model, judge.timeout.ms, judge.concurrency, judge.retries, judge.breaker.*."})
final class JudgeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions config;

  @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
  String bootstrap;

  @Override
  public Integer call() throws Exception {
    ThinkstreamConfig cfg = config.load(ConfigOptions.flags(ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap));
    TopicsCommand.requireExists(cfg.kafkaClient(), cfg.topics().judgeRequests().name());
    RewardsConfig rewards = new RewardsConfig(cfg.originals());
    Optional<Judge> judge = rewards.judge();
    if (judge.isEmpty()) {
      spec.commandLine().getErr().println("thinkstream judge: judge=none: there is nothing to run");
      return 1;
    }
    JudgeWorker worker = JudgeWorker.start(new JudgeWorker.Config(cfg.bootstrapServers(), cfg.topics(),
        rewards.getString(RewardsConfig.JUDGE_WORKER_GROUP_ID), judge.get(), rewards.judgeWorker(),
        cfg.originalsWithPrefix(ThinkstreamConfig.KAFKA_PREFIX)));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      worker.close();
      stopped.countDown();
    }, "judge-shutdown"));
    spec.commandLine().getOut().println("judge worker (" + judge.get().id() + ") running on " + cfg.bootstrapServers()
        + " (Ctrl-C to stop)");
    spec.commandLine().getOut().flush();
    stopped.await();
    return 0;
  }
}
