package io.thinkstream.trainer;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json} of a checkpoint: what it is, what it descends from, the sha256 of every
 * other file in its directory, the offsets of every input partition it consumed (from its parent's
 * end), and exactly which records each of its steps trained. Lineage reads nothing else.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(long version, Long parent, long createdAt, Map<String, String> files, List<Range> offsets,
    List<Step> steps, List<Record> skipped, Map<String, Double> metrics) {
  public static final String FILE = "manifest.json";

  /** Offsets [start, end) of one partition. */
  public record Range(String topic, int partition, long start, long end) {}

  /** One record of the input: where it is, its id (pairId / sampleId) and its objective. */
  public record Record(String topic, int partition, long offset, String id, String objective) {}

  /** One optimizer step: its number (1-based, over the whole lineage), its losses and its records in order. */
  public record Step(long step, double loss, Map<String, Double> losses, boolean applied, List<Record> records) {}

  static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  public byte[] toBytes() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise manifest v" + version, e);
    }
  }

  public static Manifest read(Path file) {
    try {
      return JSON.readValue(file.toFile(), Manifest.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** The number of the last step this checkpoint holds (its parent's when it has none). */
  public long lastStep() {
    return steps.isEmpty() ? 0 : steps.get(steps.size() - 1).step();
  }
}
