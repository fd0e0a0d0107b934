package io.thinkstream.schemas;

import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * One topic: its name, the serdes of its keys and values, and the topic-level configs it is
 * created with (retention, compaction).
 */
public record Topic<K, V>(String name, Serde<K> key, Serde<V> value, Map<String, String> config) {
  public Topic {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    config = Map.copyOf(config);
    if (name.isBlank()) {
      throw new IllegalArgumentException("topic name must not be blank");
    }
  }
}
