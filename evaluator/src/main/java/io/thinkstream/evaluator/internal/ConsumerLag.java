package io.thinkstream.evaluator.internal;

import io.thinkstream.schemas.Topic;
import io.thinkstream.schemas.Topics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Lag of every consumer group that reads this run's topics: the end offset of each partition
 * minus the group's committed offset (Admin API), summed per group and topic. Groups that read
 * none of the run's topics (other experiments on the cluster) are left out.
 */
public final class ConsumerLag implements AutoCloseable {
  /** One group's lag on one topic, in records. */
  public record GroupLag(String group, String topic, long lag) {}

  private final Admin admin;
  private final Set<String> runTopics;

  public ConsumerLag(Map<String, Object> kafka, Topics topics) {
    this.admin = Admin.create(kafka);
    this.runTopics = topics.all().stream().map(Topic::name).collect(Collectors.toSet());
  }

  public List<GroupLag> measure() throws InterruptedException, ExecutionException, TimeoutException {
    List<GroupLag> out = new ArrayList<>();
    for (GroupListing group : admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get(10, TimeUnit.SECONDS)) {
      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group.groupId())
          .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetSpec> ours = new HashMap<>();
      committed.forEach((tp, offset) -> {
        if (offset != null && runTopics.contains(tp.topic())) {
          ours.put(tp, OffsetSpec.latest());
        }
      });
      if (ours.isEmpty()) {
        continue;
      }
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(ours).all().get(10, TimeUnit.SECONDS);
      Map<String, Long> byTopic = new TreeMap<>();
      ends.forEach((tp, end) -> byTopic.merge(tp.topic(), Math.max(0, end.offset() - committed.get(tp).offset()), Long::sum));
      byTopic.forEach((topic, lag) -> out.add(new GroupLag(group.groupId(), topic, lag)));
    }
    out.sort((a, b) -> a.group().equals(b.group()) ? a.topic().compareTo(b.topic()) : a.group().compareTo(b.group()));
    return out;
  }

  @Override
  public void close() {
    admin.close();
  }
}
