package io.thinkstream.streams.internal;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the latest value per key of a topic in a store (problems by id; checkpoints by model name).
 * A record without a key fails (the processing exception handler sends it to dead-letters) or, for
 * a global store, whose thread has no dead-letter path and would stop the application, is skipped
 * with a warning.
 */
public final class StoreWriter<V> implements Processor<String, V, Void, Void> {
  private static final Logger LOG = LoggerFactory.getLogger(StoreWriter.class);

  private final String storeName;
  private final boolean global;
  private ProcessorContext<Void, Void> context;
  private KeyValueStore<String, V> store;

  private StoreWriter(String storeName, boolean global) {
    this.storeName = storeName;
    this.global = global;
  }

  /** For a task's store: an unkeyed record is an error for the processing exception handler. */
  public static <V> StoreWriter<V> of(String storeName) {
    return new StoreWriter<>(storeName, false);
  }

  /** For a global store: an unkeyed record is skipped with a warning, since failing would stop the global thread. */
  public static <V> StoreWriter<V> global(String storeName) {
    return new StoreWriter<>(storeName, true);
  }

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    this.context = context;
    store = context.getStateStore(storeName);
  }

  @Override
  public void process(Record<String, V> record) {
    if (record.key() == null) {
      if (!global) {
        throw new IllegalArgumentException("record without a key");
      }
      LOG.warn("skipped a record without a key for {} at {}", storeName, context.recordMetadata()
          .map(m -> m.topic() + "-" + m.partition() + "@" + m.offset()).orElse("an unknown offset"));
      return;
    }
    if (record.value() == null) {
      store.delete(record.key());
    } else {
      store.put(record.key(), record.value());
    }
  }
}
