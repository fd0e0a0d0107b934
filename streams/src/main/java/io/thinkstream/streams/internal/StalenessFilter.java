package io.thinkstream.streams.internal;

import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.Sample;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Drops samples drawn from a policy older than the newest checkpoint minus {@code maxLag}: pairs
 * from a stale policy are off-policy for the trainer. The newest version is read from the global
 * store fed by the compacted checkpoints topic (one entry per model name, so the scan is tiny);
 * every drop is counted in a store by policy version.
 */
public final class StalenessFilter implements FixedKeyProcessor<String, Sample, Sample> {
  private final String checkpointsStore;
  private final String countsStore;
  private final long maxLag;
  private FixedKeyProcessorContext<String, Sample> context;
  private ReadOnlyKeyValueStore<String, Checkpoint> checkpoints;
  private KeyValueStore<String, Long> dropped;

  public StalenessFilter(String checkpointsStore, String countsStore, long maxLag) {
    this.checkpointsStore = checkpointsStore;
    this.countsStore = countsStore;
    this.maxLag = maxLag;
  }

  @Override
  public void init(FixedKeyProcessorContext<String, Sample> context) {
    this.context = context;
    this.checkpoints = context.getStateStore(checkpointsStore);
    this.dropped = context.getStateStore(countsStore);
  }

  @Override
  public void process(FixedKeyRecord<String, Sample> record) {
    long version = record.value().getPolicyVersion();
    if (version < newestVersion() - maxLag) {
      String key = String.valueOf(version);
      Long count = dropped.get(key);
      dropped.put(key, count == null ? 1L : count + 1);
      return;
    }
    context.forward(record);
  }

  private long newestVersion() {
    long newest = Long.MIN_VALUE + maxLag + 1; // no checkpoint yet: nothing is stale
    try (KeyValueIterator<String, Checkpoint> all = checkpoints.all()) {
      while (all.hasNext()) {
        Checkpoint c = all.next().value;
        if (c != null) {
          newest = Math.max(newest, c.getVersion());
        }
      }
    }
    return newest;
  }
}
