package io.thinkstream.sampler.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The input records being worked on, per partition in offset order. A record's outputs leave
 * only together with its offset, and a partition's offset advances only over a completed prefix,
 * so a committed offset never passes a record whose outputs are not committed with it, and a
 * record redone after a crash has none of its outputs committed yet: nothing lost, nothing twice.
 * A later single-turn problem that finishes before an earlier multi-turn one waits for it.
 */
public final class Ledger {
  /** One input record: how many sequences it still waits for, and its outputs so far. */
  public static final class Entry {
    private final TopicPartition partition;
    private final long offset;
    private final byte[] key;
    private final byte[] value;
    private int remaining;
    private boolean failed;
    private final List<ProducerRecord<byte[], byte[]>> outputs = new ArrayList<>();

    /** The record at {@code offset}, its raw key and value (for a dead letter), awaiting {@code remaining} sequences. */
    public Entry(TopicPartition partition, long offset, byte[] key, byte[] value, int remaining) {
      this.partition = partition;
      this.offset = offset;
      this.key = key;
      this.value = value;
      this.remaining = remaining;
    }

    public byte[] key() {
      return key;
    }

    public byte[] value() {
      return value;
    }

    public TopicPartition partition() {
      return partition;
    }

    /** One awaited sequence is done; returns true when it was the last. */
    public boolean finishOne() {
      return --remaining == 0;
    }

    public long offset() {
      return offset;
    }

    public void output(ProducerRecord<byte[], byte[]> record) {
      if (!failed) {
        outputs.add(record);
      }
    }

    /** The record cannot be done: {@code deadLetter} replaces whatever it produced, and it is complete. */
    public void fail(ProducerRecord<byte[], byte[]> deadLetter) {
      outputs.clear();
      outputs.add(deadLetter);
      failed = true;
      remaining = 0;
    }

    /** Whether the record went to dead-letters; its remaining sequences are skipped. */
    public boolean failed() {
      return failed;
    }

    boolean complete() {
      return remaining <= 0;
    }
  }

  /** What one transaction commits: the outputs and the offsets after them. */
  public record Ready(List<ProducerRecord<byte[], byte[]>> outputs, Map<TopicPartition, OffsetAndMetadata> offsets) {
    public boolean isEmpty() {
      return offsets.isEmpty();
    }
  }

  private final Map<TopicPartition, ArrayDeque<Entry>> open = new HashMap<>();

  public void add(Entry e) {
    open.computeIfAbsent(e.partition, p -> new ArrayDeque<>()).addLast(e);
  }

  /** Takes every partition's completed prefix out of the ledger. */
  public Ready drain() {
    List<ProducerRecord<byte[], byte[]>> outputs = new ArrayList<>();
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (Iterator<Map.Entry<TopicPartition, ArrayDeque<Entry>>> it = open.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<TopicPartition, ArrayDeque<Entry>> p = it.next();
      ArrayDeque<Entry> queue = p.getValue();
      while (!queue.isEmpty() && queue.peekFirst().complete()) {
        Entry done = queue.pollFirst();
        outputs.addAll(done.outputs);
        offsets.put(p.getKey(), new OffsetAndMetadata(done.offset + 1));
      }
      if (queue.isEmpty()) {
        it.remove();
      }
    }
    return new Ready(outputs, offsets);
  }

  /** Forgets the records of partitions this sampler no longer owns: their next owner redoes them. */
  public void drop(Collection<TopicPartition> partitions) {
    partitions.forEach(open::remove);
  }

  public void clear() {
    open.clear();
  }

  /** Records in flight. */
  public int size() {
    return open.values().stream().mapToInt(ArrayDeque::size).sum();
  }
}
