package io.thinkstream.tasks;

import io.thinkstream.avro.FollowUp;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Multi-step arithmetic word problems with verifiable answers, written in GSM8K's format.
 *
 * <p>A problem is a story about one person's collection: a starting amount, then events that add,
 * take away (possibly in packs: "3 boxes with 4 each"), multiply or share out the collection.
 * The number of steps is the number of calculations in the story-order solution. Each problem
 * carries every distinct valid solution path, labelled by style:
 * <ul>
 *   <li>{@code sequential} — one calculation per event, in story order (the gold solution);</li>
 *   <li>{@code grouped} — between multiplications and divisions, all gains summed, all losses
 *       summed, then applied at once;</li>
 *   <li>{@code net} — the net change (gains minus losses) computed first, then applied.</li>
 * </ul>
 * Problem {@code i} of seed {@code s} depends on nothing else, so a run is reproducible and
 * problem ids ({@code syn-s-i}) dedupe across reruns.
 *
 * <p>This is the task itself, not a process: the producers publish it, the built-in tokenizer's
 * vocabulary is drawn from its word lists, SFT and the evaluator's synthetic suite read it
 * directly. Changing a word list changes the vocabulary of new checkpoints only: a checkpoint
 * records its own ({@code tokenizer.json}).
 */
public final class SyntheticProblems {
  /** The operations a story may use. */
  public enum Op { ADD, SUB, MUL, DIV }

  /** Difficulty knobs: calculations per problem, the largest operand, which operations. */
  public record Settings(int minSteps, int maxSteps, int maxNumber, Set<Op> ops) {
    public Settings {
      if (minSteps < 1 || maxSteps < minSteps) {
        throw new IllegalArgumentException("steps must satisfy 1 <= min <= max, got " + minSteps + ".." + maxSteps);
      }
      if (maxSteps > 50) {
        throw new IllegalArgumentException("at most 50 steps per problem, got " + maxSteps);
      }
      if (maxNumber < 5 || maxNumber > 1_000_000) {
        throw new IllegalArgumentException("max number must be in [5, 1000000], got " + maxNumber);
      }
      if (ops.isEmpty()) {
        throw new IllegalArgumentException("at least one operation is needed, got " + ops);
      }
      if (!ops.contains(Op.ADD) && !ops.contains(Op.SUB) && !ops.contains(Op.MUL)) {
        throw new IllegalArgumentException("operations " + ops + " cannot make a story: add ADD, SUB or MUL");
      }
      ops = Set.copyOf(ops);
    }

    public static Settings defaults() {
      return new Settings(2, 4, 50, EnumSet.allOf(Op.class));
    }

    /** Parses "MIN..MAX" or a single number. */
    public Settings withSteps(String range) {
      String[] parts = range.strip().split("\\.\\.", -1);
      try {
        int min = Integer.parseInt(parts[0].strip());
        int max = parts.length == 2 ? Integer.parseInt(parts[1].strip()) : min;
        if (parts.length > 2) {
          throw new NumberFormatException();
        }
        return new Settings(min, max, maxNumber, ops);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("steps must be MIN..MAX or N, got '" + range + "'");
      }
    }
  }

  /** The word lists stories draw from; with {@link #TEMPLATE_WORDS} they make the {@link #vocabulary()}. */
  public static final List<String> NAMES = List.of("Mia", "Ava", "Sara", "Nina", "Tom", "Leo", "Omar", "Ben");
  public static final List<String> ITEMS =
      List.of("apples", "marbles", "stickers", "coins", "books", "pencils", "cookies", "shells");
  public static final List<String> CONTAINERS = List.of("boxes", "bags", "packs", "jars");
  public static final List<String> PEOPLE = List.of("friends", "classmates", "neighbors", "cousins");
  /** The words of the story and solution templates themselves. */
  public static final List<String> TEMPLATE_WORDS = List.of("She", "He", "she", "he", "has", "buys", "with", "in",
      "each", "finds", "more", "gives", "away", "loses", "Then", "the", "The", "number", "of", "doubles", "triples",
      "becomes", "times", "as", "large", "shares", "equally", "among", "bags", "bag", "and", "keeps", "one", "How",
      "many", "does", "have", "now", "In", "all", "gets", "net", "gain", "loss", "is");

  /** Every word a question or solution can contain (numbers and punctuation aside). */
  public static List<String> vocabulary() {
    return java.util.stream.Stream.of(NAMES, ITEMS, CONTAINERS, PEOPLE, TEMPLATE_WORDS)
        .flatMap(List::stream).distinct().toList();
  }

  /**
   * No running total exceeds this, so stories never overflow a long and every number is exact as a
   * double too (2^53 is about 9e15); an event that would pass it is drawn again.
   */
  static final long MAX_TOTAL = 1_000_000_000_000_000L;

  private final Settings settings;
  private final long seed;
  private final Clock clock;
  private final int maxFollowUps;
  private final double multiTurnShare;

  /** The problems of {@code seed}, each stamped with {@code clock}'s time when it is made. */
  public SyntheticProblems(Settings settings, long seed, Clock clock) {
    this.settings = settings;
    this.seed = seed;
    this.clock = clock;
    this.maxFollowUps = 0;
    this.multiTurnShare = 0;
  }

  private SyntheticProblems(SyntheticProblems base, int maxFollowUps, double multiTurnShare) {
    this.settings = base.settings;
    this.seed = base.seed;
    this.clock = base.clock;
    this.maxFollowUps = maxFollowUps;
    this.multiTurnShare = multiTurnShare;
  }

  /**
   * The same problems, a share of which become multi-turn: 1 to {@code maxFollowUps} follow-up
   * turns ({@link FollowUps}), each with its own gold answer. Whether problem i is multi-turn is a
   * function of the seed and i, and its first turn is the same problem as without follow-ups.
   */
  public SyntheticProblems withFollowUps(int maxFollowUps, double multiTurnShare) {
    if (maxFollowUps < 0 || maxFollowUps > 16) {
      throw new IllegalArgumentException("follow-ups per problem must be in [0, 16], got " + maxFollowUps);
    }
    if (!(multiTurnShare >= 0 && multiTurnShare <= 1)) {
      throw new IllegalArgumentException("multi-turn share must be in [0, 1], got " + multiTurnShare);
    }
    return new SyntheticProblems(this, maxFollowUps, multiTurnShare);
  }

  /** A short description for progress lines and summaries. */
  public String name() {
    return "synthetic(seed=" + seed + ")";
  }

  /** Problems 0 to {@code n - 1} of this seed, in order. */
  public List<Problem> first(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("count must be >= 0, got " + n);
    }
    List<Problem> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(problem(i));
    }
    return out;
  }

  /** Problem number {@code index} of this seed. */
  public Problem problem(long index) {
    Story story = story(new SplittableRandom(mix(seed, index)));
    List<Solution> solutions = new ArrayList<>();
    for (Map.Entry<String, String> s : story.solutions().entrySet()) {
      if (solutions.stream().noneMatch(existing -> existing.getText().equals(s.getValue()))) {
        solutions.add(new Solution(s.getKey(), s.getValue()));
      }
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("seed", String.valueOf(seed));
    metadata.put("index", String.valueOf(index));
    metadata.put("steps", String.valueOf(story.steps()));
    metadata.put("styles", String.valueOf(solutions.size()));
    List<FollowUp> followUps = followUps(index, story.answer());
    if (!followUps.isEmpty()) {
      metadata.put("turns", String.valueOf(followUps.size() + 1));
    }
    return Problem.newBuilder()
        .setFollowUps(followUps)
        .setId("syn-" + seed + "-" + index)
        .setSource("synthetic")
        .setQuestion(story.question())
        .setGoldAnswer(String.valueOf(story.answer()))
        .setSolutions(solutions)
        .setTask("arithmetic")
        .setMetadata(metadata)
        .setCreatedAt(clock.instant())
        .build();
  }

  private List<FollowUp> followUps(long index, long answer) {
    if (maxFollowUps == 0) {
      return List.of();
    }
    // its own stream: the first turn stays the problem it is without follow-ups
    SplittableRandom rnd = new SplittableRandom(mix(seed, index) ^ 0x6A09E667F3BCC909L);
    if (rnd.nextDouble() >= multiTurnShare) {
      return List.of();
    }
    int n = 1 + rnd.nextInt(maxFollowUps);
    List<FollowUp> out = new ArrayList<>(n);
    long value = answer;
    for (int t = 0; t < n; t++) {
      FollowUps.Turn turn = FollowUps.next(rnd, value);
      out.add(new FollowUp(turn.question(), String.valueOf(turn.answer())));
      value = turn.answer();
    }
    return out;
  }

  /** An event of the story: a change of the running total. */
  private sealed interface Event permits Change, Scale {}

  /** total += sign * count * size; count == 1 means a single quantity, not packs. */
  private record Change(boolean gain, long count, long size, String sentence, String what) implements Event {
    long amount() {
      return count * size;
    }

    boolean packed() {
      return count > 1;
    }
  }

  /** total = total * factor (multiply) or total / factor (divide). */
  private record Scale(boolean multiply, long factor, String sentence) implements Event {}

  private record Story(String question, long answer, int steps, Map<String, String> solutions) {}

  private Story story(SplittableRandom rnd) {
    int steps = settings.minSteps() + rnd.nextInt(settings.maxSteps() - settings.minSteps() + 1);
    for (int attempt = 0; attempt < 10_000; attempt++) {
      Story story = tryStory(rnd, steps);
      if (story != null) {
        return story;
      }
    }
    throw new IllegalStateException("cannot write a " + steps + "-step story with operations " + settings.ops()
        + " and numbers up to " + settings.maxNumber() + "; allow more operations or larger numbers");
  }

  private Story tryStory(SplittableRandom rnd, int steps) {
    String name = pick(rnd, NAMES);
    String pronoun = NAMES.indexOf(name) < 4 ? "She" : "He";
    String items = pick(rnd, ITEMS);
    long start = 2 + rnd.nextInt(settings.maxNumber() - 1);
    long total = start;
    List<Event> events = new ArrayList<>();
    int left = steps;
    while (left > 0) {
      Event event = nextEvent(rnd, total, left, pronoun, items);
      if (event == null) {
        return null;
      }
      left -= cost(event);
      total = apply(total, event);
      events.add(event);
    }
    StringBuilder question = new StringBuilder();
    question.append(name).append(" has ").append(start).append(' ').append(items).append('.');
    for (Event e : events) {
      question.append(' ').append(e instanceof Change c ? c.sentence() : ((Scale) e).sentence());
    }
    question.append(" How many ").append(items).append(" does ").append(name).append(" have now?");
    Map<String, String> solutions = new LinkedHashMap<>();
    solutions.put("sequential", sequential(start, events, pronoun, items));
    solutions.put("grouped", grouped(start, events, pronoun, items, false));
    solutions.put("net", grouped(start, events, pronoun, items, true));
    return new Story(question.toString(), total, steps, solutions);
  }

  /** An event that keeps the total within {@link #MAX_TOTAL}, or null when 20 tries found none. */
  private Event nextEvent(SplittableRandom rnd, long total, int left, String pronoun, String items) {
    List<Op> ops = new ArrayList<>(settings.ops());
    ops.sort(null);
    for (int tries = 0; tries < 20; tries++) {
      Event event = tryEvent(rnd, ops, total, left, pronoun, items);
      if (event != null && apply(total, event) <= MAX_TOTAL) {
        return event;
      }
    }
    return null;
  }

  /** One random event, or null when the drawn operation does not fit the current total. */
  private Event tryEvent(SplittableRandom rnd, List<Op> ops, long total, int left, String pronoun, String items) {
    int max = settings.maxNumber();
    Op op = ops.get(rnd.nextInt(ops.size()));
    boolean packs = settings.ops().contains(Op.MUL) && left >= 2 && rnd.nextInt(3) == 0;
    return switch (op) {
      case ADD -> {
        if (packs) {
          long count = 2 + rnd.nextInt(Math.min(9, max - 1));
          long size = 2 + rnd.nextInt(Math.min(12, max - 1));
          String box = pick(rnd, CONTAINERS);
          yield new Change(true, count, size, pronoun + " buys " + count + " " + box + " with " + size
              + " " + items + " in each.", "buys");
        }
        long a = 1 + rnd.nextInt(max);
        yield new Change(true, 1, a, pronoun + " finds " + a + " more " + items + ".", "finds");
      }
      case SUB -> {
        if (packs) {
          long count = 2 + rnd.nextInt(Math.min(5, max - 1));
          long size = 1 + (total / count > 1 ? rnd.nextLong(Math.min(total / count, max)) : 0);
          if (count * size >= total) { // keep at least one: "the number doubles" must mean something
            yield null;
          }
          String people = pick(rnd, PEOPLE);
          yield new Change(false, count, size, pronoun + " gives " + count + " " + people + " " + size
              + " " + items + " each.", "gives away");
        }
        if (total < 2) {
          yield null;
        }
        long a = 1 + rnd.nextLong(Math.min(total - 1, max));
        yield new Change(false, 1, a, pronoun + " loses " + a + " " + items + ".", "loses");
      }
      case MUL -> {
        long factor = 2 + rnd.nextInt(Math.min(4, max - 1));
        String how = factor == 2 ? "doubles" : factor == 3 ? "triples" : "becomes " + factor + " times as large";
        yield new Scale(true, factor, "Then the number of " + items + " " + how + ".");
      }
      case DIV -> {
        List<Long> divisors = new ArrayList<>();
        for (long k = 2; k <= Math.min(6, max); k++) {
          if (total % k == 0 && total / k >= 1) {
            divisors.add(k);
          }
        }
        if (divisors.isEmpty()) {
          yield null;
        }
        long k = divisors.get(rnd.nextInt(divisors.size()));
        yield new Scale(false, k, pronoun + " shares the " + items + " equally among " + k
            + " bags and keeps one bag.");
      }
    };
  }

  private static int cost(Event e) {
    return e instanceof Change c && c.packed() ? 2 : 1;
  }

  private static long apply(long total, Event e) {
    if (e instanceof Change c) {
      return c.gain() ? total + c.amount() : total - c.amount();
    }
    Scale s = (Scale) e;
    return s.multiply() ? total * s.factor() : total / s.factor();
  }

  /** One calculation per event, in story order. */
  private static String sequential(long start, List<Event> events, String pronoun, String items) {
    List<String> lines = new ArrayList<>();
    long total = start;
    for (Event e : events) {
      long next = apply(total, e);
      if (e instanceof Change c) {
        if (c.packed()) {
          lines.add(pronoun + " " + c.what() + " " + calc(c.count() + "*" + c.size(), c.amount()) + " " + items + ".");
        }
        String op = c.gain() ? "+" : "-";
        lines.add(pronoun + " has " + calc(total + op + c.amount(), next) + " " + items + ".");
      } else {
        lines.add(scaleLine((Scale) e, total, next, pronoun, items));
      }
      total = next;
    }
    lines.add("#### " + total);
    return String.join("\n", lines);
  }

  /**
   * Between scalings, gains and losses are totalled first ("grouped") or netted first ("net"),
   * then applied in one calculation.
   */
  private static String grouped(long start, List<Event> events, String pronoun, String items, boolean net) {
    List<String> lines = new ArrayList<>();
    long total = start;
    List<Change> segment = new ArrayList<>();
    for (Event e : events) {
      if (e instanceof Change c) {
        segment.add(c);
        continue;
      }
      total = applySegment(total, segment, lines, pronoun, items, net);
      segment.clear();
      long next = apply(total, e);
      lines.add(scaleLine((Scale) e, total, next, pronoun, items));
      total = next;
    }
    total = applySegment(total, segment, lines, pronoun, items, net);
    lines.add("#### " + total);
    return String.join("\n", lines);
  }

  private static long applySegment(
      long total, List<Change> segment, List<String> lines, String pronoun, String items, boolean net) {
    if (segment.isEmpty()) {
      return total;
    }
    for (Change c : segment) {
      if (c.packed()) {
        lines.add(pronoun + " " + c.what() + " " + calc(c.count() + "*" + c.size(), c.amount()) + " " + items + ".");
      }
    }
    List<Long> gains = segment.stream().filter(Change::gain).map(Change::amount).toList();
    List<Long> losses = segment.stream().filter(c -> !c.gain()).map(Change::amount).toList();
    long gained = gains.stream().mapToLong(Long::longValue).sum();
    long lost = losses.stream().mapToLong(Long::longValue).sum();
    if (gains.size() > 1) {
      lines.add("In all " + pronoun.toLowerCase(Locale.ROOT) + " gets " + calc(join(gains, "+"), gained) + " " + items + ".");
    }
    if (losses.size() > 1) {
      lines.add("In all " + pronoun.toLowerCase(Locale.ROOT) + " gives away " + calc(join(losses, "+"), lost) + " " + items + ".");
    }
    long next = total + gained - lost;
    if (net && !gains.isEmpty() && !losses.isEmpty()) {
      long change = Math.abs(gained - lost);
      String sign = gained >= lost ? "+" : "-";
      String first = gained >= lost ? gained + "-" + lost : lost + "-" + gained;
      lines.add("The " + (gained >= lost ? "net gain" : "net loss") + " is " + calc(first, change) + " " + items + ".");
      lines.add(pronoun + " has " + calc(total + sign + change, next) + " " + items + ".");
    } else {
      String expr = total + (gains.isEmpty() ? "" : "+" + gained) + (losses.isEmpty() ? "" : "-" + lost);
      lines.add(pronoun + " has " + calc(expr, next) + " " + items + ".");
    }
    return next;
  }

  private static String scaleLine(Scale s, long total, long next, String pronoun, String items) {
    String op = s.multiply() ? "*" : "/";
    return pronoun + " has " + calc(total + op + s.factor(), next) + " " + items + ".";
  }

  /** "a+b=<<a+b=c>>c", GSM8K's calculator annotation. */
  private static String calc(String expr, long value) {
    return expr + "=<<" + expr + "=" + value + ">>" + value;
  }

  private static String join(List<Long> values, String op) {
    return String.join(op, values.stream().map(String::valueOf).toList());
  }

  private static <T> T pick(SplittableRandom rnd, List<T> values) {
    return values.get(rnd.nextInt(values.size()));
  }

  /** A well-mixed 64-bit seed for problem {@code index} of {@code seed} (SplitMix64 finaliser). */
  private static long mix(long seed, long index) {
    long z = seed * 0x9E3779B97F4A7C15L + index;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
