package io.thinkstream.app;

import io.thinkstream.evaluator.EvaluatorConfig;
import io.thinkstream.producers.SyntheticSource;
import io.thinkstream.sampler.SamplerConfig;
import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.RewardsConfig;
import io.thinkstream.tasks.SyntheticProblems;
import io.thinkstream.trainer.TrainerConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every thinkstream setting, declared once with its doc, default and validator. Values come from
 * the defaults, then a properties file ({@code --config F}), then {@code --set key=value}, then a
 * command's own flags. Unknown keys fail: a typo must not silently fall back to a default.
 * Keys starting with {@code kafka.} are passed to every Kafka client with the prefix removed
 * (e.g. {@code kafka.security.protocol=SSL}).
 */
public final class ThinkstreamConfig extends AbstractConfig {
  public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
  public static final String TOPIC_PREFIX = "topic.prefix";
  public static final String TOPIC_PARTITIONS = "topic.partitions";
  public static final String TOPIC_REPLICATION_FACTOR = "topic.replication.factor";
  public static final String BROKER_HOST = "broker.host";
  public static final String BROKER_PORT = "broker.port";
  public static final String BROKER_DATA_DIR = "broker.data.dir";
  public static final String JSONL_MAX_LINE_BYTES = "jsonl.max.line.bytes";
  public static final String HTTP_HOST = "http.host";
  public static final String HTTP_PORT = "http.port";
  public static final String HTTP_MAX_BODY_BYTES = "http.max.body.bytes";
  public static final String SYNTHETIC_STEPS = "synthetic.steps";
  public static final String SYNTHETIC_MAX_NUMBER = "synthetic.max.number";
  public static final String SYNTHETIC_OPERATIONS = "synthetic.operations";
  public static final String SYNTHETIC_FOLLOW_UPS = "synthetic.follow.ups";
  public static final String SYNTHETIC_MULTI_TURN_SHARE = "synthetic.multi.turn.share";
  public static final String METRICS_HOST = "metrics.host";
  public static final String METRICS_PORT = "metrics.port";
  /** Prefix of pass-through Kafka client settings. */
  public static final String KAFKA_PREFIX = "kafka.";

  public static final ConfigDef DEF = new ConfigDef()
      .define(BOOTSTRAP_SERVERS, Type.STRING, "localhost:9092", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Kafka bootstrap servers (host:port[,host:port...]).")
      .define(TOPIC_PREFIX, Type.STRING, "", Importance.MEDIUM,
          "Prefix of every topic name, to run several experiments on one cluster (e.g. 'exp1.').")
      .define(TOPIC_PARTITIONS, Type.INT, 3, Range.atLeast(1), Importance.MEDIUM,
          "Partitions of each topic created by 'topics create'.")
      .define(TOPIC_REPLICATION_FACTOR, Type.SHORT, (short) 1, Range.atLeast(1), Importance.MEDIUM,
          "Replication factor of each topic created by 'topics create'.")
      .define(BROKER_HOST, Type.STRING, "localhost", new ConfigDef.NonEmptyString(), Importance.LOW,
          "Host name the embedded broker listens on and advertises.")
      .define(BROKER_PORT, Type.INT, 9092, Range.between(0, 65535), Importance.MEDIUM,
          "Client port of the embedded broker.")
      .define(BROKER_DATA_DIR, Type.STRING, "data/kafka", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Data directory of the embedded broker; formatted on first start, reused after.")
      .define(JSONL_MAX_LINE_BYTES, Type.INT, 1 << 20, Range.between(16, 8 << 20), Importance.LOW,
          "Longest accepted JSONL line in bytes; longer lines go to dead-letters.")
      .define(HTTP_HOST, Type.STRING, "localhost", new ConfigDef.NonEmptyString(), Importance.LOW,
          "Address the HTTP ingest binds (0.0.0.0 for all interfaces).")
      .define(HTTP_PORT, Type.INT, 8080, Range.between(0, 65535), Importance.MEDIUM,
          "Port of the HTTP ingest.")
      .define(HTTP_MAX_BODY_BYTES, Type.INT, (1 << 20) - (64 << 10), Range.between(64, 16 << 20), Importance.LOW,
          "Largest accepted HTTP request body in bytes; kept below the producer's max.request.size (1 MiB by "
              + "default), so that an accepted body is never refused by Kafka afterwards.")
      .define(SYNTHETIC_STEPS, Type.STRING, "2..4", stepsValidator(), Importance.MEDIUM,
          "Calculations per synthetic problem, MIN..MAX (or one number).")
      .define(SYNTHETIC_MAX_NUMBER, Type.INT, 50, Range.between(5, 1_000_000), Importance.MEDIUM,
          "Largest operand in synthetic problems.")
      .define(SYNTHETIC_OPERATIONS, Type.LIST, List.of("add", "sub", "mul", "div"),
          ConfigDef.ValidList.in(false, "add", "sub", "mul", "div"), Importance.MEDIUM,
          "Operations synthetic stories may use.")
      .define(SYNTHETIC_FOLLOW_UPS, Type.INT, 0, Range.between(0, 16), Importance.LOW,
          "Most follow-up turns of a multi-turn synthetic problem ('Now subtract 7 from that.'); 0 = single-turn only.")
      .define(SYNTHETIC_MULTI_TURN_SHARE, Type.DOUBLE, 0.5, Range.between(0, 1), Importance.LOW,
          "Share of synthetic problems that get 1.." + SYNTHETIC_FOLLOW_UPS + " follow-up turns when that is above 0.")
      .define(METRICS_HOST, Type.STRING, "127.0.0.1", new ConfigDef.NonEmptyString(), Importance.LOW,
          "Address a service's /metrics endpoint (Prometheus format) binds (0.0.0.0 for all interfaces).")
      .define(METRICS_PORT, Type.INT, 0, Range.between(-1, 65535), Importance.MEDIUM,
          "Port of a service's /metrics endpoint; 0 picks a free one (printed at start), -1 turns it off.");

  static {
    // The rewards service's and the evaluator's keys are declared beside them; they are settings of this one config.
    RewardsConfig.DEF.configKeys().values().forEach(DEF::define);
    SamplerConfig.DEF.configKeys().values().forEach(DEF::define);
    EvaluatorConfig.DEF.configKeys().values().forEach(DEF::define);
    TrainerConfig.DEF.configKeys().values().forEach(DEF::define);
  }

  private ThinkstreamConfig(Map<String, ?> props) {
    super(DEF, props, false);
  }

  /**
   * Loads the configuration: defaults, then {@code file} (may be null), then {@code overrides}
   * in order (later wins). Unknown keys fail with the list of known ones.
   */
  @SafeVarargs
  public static ThinkstreamConfig load(Path file, Map<String, String>... overrides) {
    Map<String, Object> props = new LinkedHashMap<>();
    if (file != null) {
      props.putAll(readProperties(file));
      rejectUnknown(props.keySet(), "in " + file);
    }
    for (Map<String, String> o : overrides) {
      rejectUnknown(o.keySet(), "");
      props.putAll(o);
    }
    return new ThinkstreamConfig(props);
  }

  public String bootstrapServers() {
    return getString(BOOTSTRAP_SERVERS);
  }

  public Topics topics() {
    return Topics.withPrefix(getString(TOPIC_PREFIX));
  }

  /** Settings for any Kafka client: bootstrap servers plus every {@code kafka.*} key. */
  public Map<String, Object> kafkaClient() {
    Map<String, Object> client = new LinkedHashMap<>(originalsWithPrefix(KAFKA_PREFIX));
    client.put(BOOTSTRAP_SERVERS, bootstrapServers());
    return client;
  }

  /** The synthetic source of {@code count} problems of {@code seed}, with the configured follow-ups. */
  public SyntheticSource syntheticProblems(long seed, long count, java.time.Clock clock) {
    return new SyntheticSource(new SyntheticProblems(synthetic(), seed, clock)
        .withFollowUps(getInt(SYNTHETIC_FOLLOW_UPS), getDouble(SYNTHETIC_MULTI_TURN_SHARE)), count);
  }

  public SyntheticProblems.Settings synthetic() {
    Set<SyntheticProblems.Op> ops = EnumSet.noneOf(SyntheticProblems.Op.class);
    for (String op : getList(SYNTHETIC_OPERATIONS)) {
      ops.add(SyntheticProblems.Op.valueOf(op.toUpperCase(Locale.ROOT)));
    }
    return new SyntheticProblems.Settings(1, 1, getInt(SYNTHETIC_MAX_NUMBER), ops)
        .withSteps(getString(SYNTHETIC_STEPS));
  }

  private static Map<String, String> readProperties(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
    }
    Map<String, String> map = new LinkedHashMap<>();
    p.stringPropertyNames().forEach(k -> map.put(k, p.getProperty(k).strip()));
    return map;
  }

  private static void rejectUnknown(Set<String> keys, String where) {
    Set<String> unknown = new TreeSet<>();
    for (String key : keys) {
      if (!DEF.names().contains(key) && !(key.startsWith(KAFKA_PREFIX) && key.length() > KAFKA_PREFIX.length())) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      throw new ConfigException("unknown config key" + (unknown.size() > 1 ? "s " : " ") + unknown
          + (where.isEmpty() ? "" : " " + where) + "; known keys: " + new TreeSet<>(DEF.names())
          + " and kafka.* (passed to Kafka clients)");
    }
  }

  private static ConfigDef.Validator stepsValidator() {
    return (name, value) -> {
      try {
        SyntheticProblems.Settings.defaults().withSteps(String.valueOf(value));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(name, value, e.getMessage());
      }
    };
  }
}
