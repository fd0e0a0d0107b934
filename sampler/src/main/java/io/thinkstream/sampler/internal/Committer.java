package io.thinkstream.sampler.internal;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits each batch's transaction on a thread of its own, so the next batch generates while the
 * previous one's outputs and offsets commit. At most one transaction is in flight: the sampling
 * thread takes its outcome before it submits the next, and before it gives partitions up.
 */
public final class Committer implements AutoCloseable {
  /** How a transaction ended. */
  public enum Outcome { COMMITTED, ABORTED, HALTED }

  private static final Logger LOG = LoggerFactory.getLogger(Committer.class);

  private final KafkaProducer<byte[], byte[]> producer;
  private final BooleanSupplier halting;
  private final Consumer<Ledger.Ready> onCommitted;
  private final ExecutorService thread;
  private Future<Outcome> inFlight;

  /**
   * {@code halting} is asked after the records are written and before the commit (a crash
   * drill); {@code onCommitted} runs after each commit (metrics).
   */
  public Committer(KafkaProducer<byte[], byte[]> producer, String name, BooleanSupplier halting,
      Consumer<Ledger.Ready> onCommitted) {
    this.producer = producer;
    this.halting = halting;
    this.onCommitted = onCommitted;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts one transaction: the outputs, then the offsets, with the group's metadata for fencing. */
  public void submit(Ledger.Ready ready, ConsumerGroupMetadata group) {
    if (inFlight != null) {
      throw new IllegalStateException("a transaction is still in flight; take its outcome first");
    }
    inFlight = thread.submit(() -> commit(ready, group));
  }

  /** The outcome of the transaction in flight, waiting for it; empty when none was. */
  public Optional<Outcome> await() {
    if (inFlight == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(inFlight.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted while a transaction was committing", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new KafkaException(e.getCause());
    } finally {
      if (inFlight.isDone()) {
        inFlight = null;
      }
    }
  }

  /** Like {@link #await} but only when the transaction has already ended. */
  public Optional<Outcome> poll() {
    return inFlight != null && inFlight.isDone() ? await() : Optional.empty();
  }

  private Outcome commit(Ledger.Ready ready, ConsumerGroupMetadata group) {
    try {
      producer.beginTransaction();
      for (ProducerRecord<byte[], byte[]> r : ready.outputs()) {
        producer.send(r);
      }
      if (halting.getAsBoolean()) {
        producer.flush(); // written to the log, never committed
        return Outcome.HALTED;
      }
      producer.sendOffsetsToTransaction(ready.offsets(), group);
      producer.commitTransaction();
    } catch (ProducerFencedException e) {
      throw e;
    } catch (KafkaException e) {
      // e.g. the group moved on (a rebalance after a too-long batch): nothing of it is visible
      LOG.warn("transaction failed, aborting; the sampler redoes it from the committed offsets: {}", e.toString());
      producer.abortTransaction();
      return Outcome.ABORTED;
    }
    onCommitted.accept(ready);
    return Outcome.COMMITTED;
  }

  /** Stops the commit thread; with {@code crash} the producer closes at once, leaving any transaction open. */
  public void close(boolean crash) {
    thread.shutdown();
    producer.close(crash ? Duration.ZERO : Duration.ofSeconds(10));
  }

  @Override
  public void close() {
    close(false);
  }
}
