package io.thinkstream.app;

import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/** Creates (idempotently) and lists the loop's topics; {@link #create} is also used by the demo and the tests. */
@Command(name = "topics", mixinStandardHelpOptions = true, description = "Create or list the loop's topics.",
    subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class})
public final class TopicsCommand {

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create every topic of the loop; existing topics are left as they are.")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ConfigOptions config;

    @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
    String bootstrap;

    @Option(names = "--partitions", description = "Partitions per topic (default: topic.partitions).")
    Integer partitions;

    @Override
    public Integer call() throws IOException {
      ThinkstreamConfig cfg = config.load(ConfigOptions.flags(
          ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap, ThinkstreamConfig.TOPIC_PARTITIONS, partitions));
      try (Admin admin = Admin.create(cfg.kafkaClient())) {
        create(admin, cfg.topics(), cfg.getInt(ThinkstreamConfig.TOPIC_PARTITIONS),
            cfg.getShort(ThinkstreamConfig.TOPIC_REPLICATION_FACTOR), spec.commandLine().getOut());
        Optional<String> mismatch = coPartitioningProblem(admin, cfg.topics());
        if (mismatch.isPresent()) {
          spec.commandLine().getErr().println("thinkstream topics create: " + mismatch.get());
          return 1;
        }
      }
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the loop's topics and their partitions.")
  static final class ListTopics implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ConfigOptions config;

    @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers).")
    String bootstrap;

    @Override
    public Integer call() throws IOException {
      ThinkstreamConfig cfg = config.load(ConfigOptions.flags(ThinkstreamConfig.BOOTSTRAP_SERVERS, bootstrap));
      try (Admin admin = Admin.create(cfg.kafkaClient())) {
        PrintWriter out = spec.commandLine().getOut();
        Set<String> existing = await(admin.listTopics().names(), "listing topics");
        for (Topic<String, ?> topic : cfg.topics().all()) {
          if (existing.contains(topic.name())) {
            TopicDescription d = await(admin.describeTopics(List.of(topic.name())).topicNameValues()
                .get(topic.name()), "describing " + topic.name());
            out.printf("%-24s %d partitions%n", topic.name(), d.partitions().size());
          } else {
            out.printf("%-24s missing%n", topic.name());
          }
        }
      }
      return 0;
    }
  }

  /**
   * Why the rewards topology's lookups would be wrong, or empty when they are right. A sample finds
   * its problem in a local store, and explore and judge results find their search and group, only
   * when both topics of a pair have the same partition count (and their producers the same
   * partitioner, murmur2 as the Java client's default: non-Java clients must be set to it, see the
   * README); existing topics keep their counts, so a mismatch must be reported, not papered over.
   */
  public static Optional<String> coPartitioningProblem(Admin admin, Topics topics) throws IOException {
    Set<String> existing = await(admin.listTopics().names(), "listing topics");
    List<String> names = new ArrayList<>();
    for (Topic<String, ?> t : List.of(topics.problems(), topics.samples(), topics.exploreResults(),
        topics.judgeResults())) {
      if (existing.contains(t.name())) {
        names.add(t.name());
      }
    }
    if (names.size() < 2) {
      return Optional.empty();
    }
    Map<String, TopicDescription> described = await(admin.describeTopics(names).allTopicNames(), "describing topics");
    Map<String, Integer> counts = new java.util.LinkedHashMap<>();
    names.forEach(n -> counts.put(n, described.get(n).partitions().size()));
    if (counts.values().stream().distinct().count() <= 1) {
      return Optional.empty();
    }
    return Optional.of("partition counts differ " + counts + ": " + String.join(", ", names)
        + " must have the same number of partitions (and murmur2-partitioned keys) for the rewards service to find"
        + " each sample's problem; recreate them with one count (--partitions)");
  }

  /**
   * Creates every topic of {@code topics} that does not exist yet and prints one line per topic.
   * Safe to run any number of times.
   */
  public static void create(Admin admin, Topics topics, int partitions, short replication, PrintWriter out)
      throws IOException {
    List<NewTopic> wanted = new ArrayList<>();
    for (Topic<String, ?> topic : topics.all()) {
      wanted.add(new NewTopic(topic.name(), Optional.of(partitions), Optional.of(replication)).configs(topic.config()));
    }
    var result = admin.createTopics(wanted);
    List<String> created = new ArrayList<>();
    for (NewTopic topic : wanted) {
      try {
        result.values().get(topic.name()).get(30, TimeUnit.SECONDS);
        out.printf("created %-24s partitions=%d %s%n", topic.name(), partitions, topic.configs());
        created.add(topic.name());
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TopicExistsException) {
          out.printf("exists  %s%n", topic.name());
        } else {
          throw new IOException("cannot create topic " + topic.name() + ": " + e.getCause().getMessage(), e.getCause());
        }
      } catch (TimeoutException e) {
        throw new IOException("timed out creating topic " + topic.name() + ": is the broker reachable?", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
    awaitLeaders(admin, created, partitions);
  }

  /**
   * Waits until every partition of the new topics answers a leader-only request. The metadata
   * can name a leader a moment before that broker acts as one, and an idempotent producer whose
   * very first batch is refused then can get stuck on out-of-order sequence errors.
   */
  private static void awaitLeaders(Admin admin, List<String> topics, int partitions) throws IOException {
    Map<TopicPartition, OffsetSpec> all = new HashMap<>();
    for (String topic : topics) {
      for (int p = 0; p < partitions; p++) {
        all.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!all.isEmpty()) {
      try {
        admin.listOffsets(all).all().get(10, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException | TimeoutException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException("new topics have no working leader after 30 s: " + e.getMessage(), e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
  }

  /** Fails with a clear message when {@code topic} is missing, instead of the producer's metadata timeout. */
  static void requireExists(Map<String, Object> client, String topic) throws IOException {
    try (Admin admin = Admin.create(client)) {
      Set<String> names = await(admin.listTopics().names(), "listing topics");
      if (!names.contains(topic)) {
        throw new IOException("topic '" + topic + "' does not exist; run 'thinkstream topics create' first");
      }
    }
  }

  static <T> T await(org.apache.kafka.common.KafkaFuture<T> future, String what) throws IOException {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IOException(what + " failed: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException(what + " timed out after 30 s: is the broker reachable?", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while " + what, e);
    }
  }
}
