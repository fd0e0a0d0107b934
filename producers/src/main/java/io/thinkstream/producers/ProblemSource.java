package io.thinkstream.producers;

import io.thinkstream.avro.Problem;
import java.io.IOException;
import java.util.stream.Stream;

/** Where problems come from: each item is a problem to publish or an input rejected with its reason. */
public interface ProblemSource {
  /** A short description for progress lines and summaries. */
  String name();

  /** The items, in order; the caller closes the stream. Known size, when any, via {@link #expectedCount()}. */
  Stream<Item> items() throws IOException;

  /** How many items the source will yield, or -1 when unknown. */
  default long expectedCount() {
    return -1;
  }

  /** One input: a good problem or a rejected one. */
  sealed interface Item permits Item.Good, Item.Rejected {
    record Good(Problem problem) implements Item {}

    /** A rejected input: {@code origin} names the file (or stream), {@code position} the line. */
    record Rejected(String origin, long position, String reason, byte[] raw) implements Item {}
  }
}
