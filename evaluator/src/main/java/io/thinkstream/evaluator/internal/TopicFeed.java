package io.thinkstream.evaluator.internal;

import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the retained topics the dashboard shows from their beginning, then follows them: every
 * record goes into the {@link RunState}, and evaluations and checkpoints are pushed to the live
 * clients as they arrive. No consumer group: the dashboard is a reader that always starts over,
 * so a restart rebuilds the whole page from the log. Undecodable records are counted and skipped
 * (dead-lettering them is the producers' job).
 */
public final class TopicFeed implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TopicFeed.class);

  private final Topics topics;
  private final RunState state;
  private final LiveEvents live;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final AtomicLong undecodable = new AtomicLong();
  private final Thread thread;
  private volatile boolean running = true;

  public TopicFeed(Map<String, Object> kafka, Topics topics, RunState state, LiveEvents live) {
    this.topics = topics;
    this.state = state;
    this.live = live;
    Map<String, Object> props = new HashMap<>(kafka);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // aborted evaluations never show
    this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::run, "dashboard-feed");
    this.thread.setDaemon(true);
  }

  public KafkaConsumer<byte[], byte[]> consumer() {
    return consumer;
  }

  public void start() {
    thread.start();
  }

  private void run() {
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      for (Topic<String, ?> t : List.of(topics.problems(), topics.samples(), topics.rewards(), topics.preferences(),
          topics.checkpoints(), topics.evaluations())) {
        List<PartitionInfo> infos = consumer.partitionsFor(t.name(), Duration.ofSeconds(30));
        infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(250))) {
          try {
            dispatch(r);
          } catch (RuntimeException e) {
            if (undecodable.incrementAndGet() <= 10) {
              LOG.warn("dashboard skips {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
            }
          }
        }
      }
    } catch (WakeupException e) {
      // close() was called
    } catch (RuntimeException e) {
      LOG.error("the dashboard feed stopped", e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void dispatch(ConsumerRecord<byte[], byte[]> r) {
    String name = r.topic();
    if (name.equals(topics.evaluations().name())) {
      live.send("evaluation", state.add(decode(topics.evaluations(), r)));
    } else if (name.equals(topics.checkpoints().name())) {
      live.send("checkpoint", state.add(decode(topics.checkpoints(), r)));
    } else if (name.equals(topics.preferences().name())) {
      state.add(decode(topics.preferences(), r), r.topic(), r.partition(), r.offset(), r.timestamp());
    } else if (name.equals(topics.rewards().name())) {
      state.add(decode(topics.rewards(), r), r.timestamp());
    } else if (name.equals(topics.samples().name())) {
      state.add(decode(topics.samples(), r), r.partition(), r.offset(), r.timestamp());
    } else if (name.equals(topics.problems().name())) {
      state.add(decode(topics.problems(), r));
    }
  }

  private static <V> V decode(Topic<String, V> topic, ConsumerRecord<byte[], byte[]> r) {
    return topic.value().deserializer().deserialize(topic.name(), r.value());
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
