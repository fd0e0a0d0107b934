package io.thinkstream.producers;

import io.thinkstream.tasks.SyntheticProblems;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/** The synthetic task as a problem source: problems 0 to {@code count - 1} of its seed, in order. */
public record SyntheticSource(SyntheticProblems problems, long count) implements ProblemSource {
  public SyntheticSource {
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0, got " + count);
    }
  }

  @Override
  public String name() {
    return problems.name();
  }

  @Override
  public long expectedCount() {
    return count;
  }

  @Override
  public Stream<Item> items() {
    return LongStream.range(0, count).mapToObj(i -> new Item.Good(problems.problem(i)));
  }
}
