package io.thinkstream.streams.internal;

import io.thinkstream.avro.Sample;
import java.time.Duration;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * Drops a sample whose sampleId was seen within the dedup window: sampleId is a deterministic
 * hash of (problem, policy version, strategy, seed), so a second copy is a sampler retry and must
 * not count twice. A windowed store forgets old ids by itself instead of growing for ever.
 */
public final class DedupProcessor implements FixedKeyProcessor<String, Sample, Sample> {
  private final String storeName;
  private final Duration window;
  private FixedKeyProcessorContext<String, Sample> context;
  private WindowStore<String, Long> seen;

  public DedupProcessor(String storeName, Duration window) {
    this.storeName = storeName;
    this.window = window;
  }

  @Override
  public void init(FixedKeyProcessorContext<String, Sample> context) {
    this.context = context;
    this.seen = context.getStateStore(storeName);
  }

  @Override
  public void process(FixedKeyRecord<String, Sample> record) {
    String id = record.value().getSampleId();
    long ts = record.timestamp();
    try (WindowStoreIterator<Long> hits = seen.fetch(id, ts - window.toMillis(), ts + window.toMillis())) {
      if (hits.hasNext()) {
        return;
      }
    }
    seen.put(id, ts, ts);
    context.forward(record);
  }
}
