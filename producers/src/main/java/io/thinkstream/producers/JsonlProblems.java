package io.thinkstream.producers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Solution;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.schemas.text.FinalAnswer;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * GSM8K-format JSONL: one object per line with {@code question} and {@code answer} (the reference
 * solution ending in {@code #### final}). Lines are read as raw bytes so that a bad line — not
 * JSON, a missing or empty field, invalid UTF-8, longer than the limit — is rejected alone, with
 * its line number and reason, and reading goes on. Blank lines are skipped.
 */
public final class JsonlProblems implements ProblemSource {
  /** Strict: a line holding an object followed by anything else is not one JSON object. */
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  /** How much of an over-long line is kept in its dead letter. */
  private static final int KEPT_PREFIX = 4096;

  private final Path file;
  private final int maxLineBytes;
  private final Clock clock;
  private final String stem;

  public JsonlProblems(Path file, int maxLineBytes, Clock clock) {
    if (maxLineBytes < 16) {
      throw new IllegalArgumentException("max line bytes must be >= 16, got " + maxLineBytes);
    }
    this.file = file;
    this.maxLineBytes = maxLineBytes;
    this.clock = clock;
    String name = file.getFileName().toString();
    this.stem = name.endsWith(".jsonl") ? name.substring(0, name.length() - 6) : name;
  }

  @Override
  public String name() {
    return "jsonl:" + file;
  }

  @Override
  public Stream<Item> items() throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("no such file: " + file.toAbsolutePath());
    }
    InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    Iterator<Item> it = new Iterator<>() {
      private final LineReader lines = new LineReader(in, maxLineBytes);
      private Item next = advance();

      private Item advance() {
        try {
          for (LineReader.Line line = lines.next(); line != null; line = lines.next()) {
            Item item = parse(line);
            if (item != null) {
              return item;
            }
          }
          return null;
        } catch (IOException e) {
          throw new UncheckedIOException("reading " + file + " at line " + lines.number(), e);
        }
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public Item next() {
        if (next == null) {
          throw new NoSuchElementException();
        }
        Item current = next;
        next = advance();
        return current;
      }
    };
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED), false)
        .onClose(() -> {
          try {
            in.close();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /** The item for one line, or null for a blank line. */
  Item parse(LineReader.Line line) {
    if (line.truncated()) {
      return reject(line, "line is longer than the limit of " + maxLineBytes + " bytes (first "
          + Math.min(KEPT_PREFIX, line.bytes().length) + " bytes kept)", Arrays.copyOf(line.bytes(), Math.min(KEPT_PREFIX, line.bytes().length)));
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(line.bytes())).toString();
    } catch (CharacterCodingException e) {
      return reject(line, "not valid UTF-8", line.bytes());
    }
    if (line.number() == 1 && text.startsWith("\uFEFF")) {
      text = text.substring(1); // a UTF-8 byte-order mark, as Windows tools write; JSON parsers may ignore it
    }
    if (text.isBlank()) {
      return null;
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return reject(line, "not JSON: " + e.getOriginalMessage(), line.bytes());
    }
    if (node == null || !node.isObject()) {
      return reject(line, "not a JSON object", line.bytes());
    }
    for (String field : List.of("question", "answer")) {
      if (!node.has(field) || node.get(field).isNull()) {
        return reject(line, "missing field '" + field + "'", line.bytes());
      }
      if (!node.get(field).isTextual()) {
        return reject(line, "field '" + field + "' must be a string, got " + node.get(field).getNodeType(), line.bytes());
      }
      if (node.get(field).asText().isBlank()) {
        return reject(line, "empty " + field, line.bytes());
      }
    }
    String question = node.get("question").asText().strip();
    String answer = node.get("answer").asText();
    Gsm8kSolution solution = Gsm8kSolution.parse(answer);
    if (solution.finalAnswer().isEmpty() || solution.finalAnswer().get().isBlank()) {
      return reject(line, "answer has no final line '#### <answer>'", line.bytes());
    }
    String gold = solution.finalAnswer().get().replace(",", "").strip();
    if (FinalAnswer.normalise(gold).isEmpty()) {
      return reject(line, "final answer '" + solution.finalAnswer().get() + "' is not a number: gsm8k gold answers"
          + " are numbers, which the verifier compares", line.bytes());
    }
    Problem problem = Problem.newBuilder()
        .setId(id(line))
        .setSource(name())
        .setQuestion(question)
        .setGoldAnswer(gold)
        .setSolutions(List.of(new Solution("reference", answer)))
        .setTask("gsm8k")
        .setMetadata(Map.of("file", file.getFileName().toString(), "line", String.valueOf(line.number())))
        .setCreatedAt(clock.instant())
        .build();
    return new Item.Good(problem);
  }

  /**
   * The file's stem and line number, readable, plus a hash of the line's bytes: two files that
   * share a name (train.jsonl of two data sets) cannot overwrite each other's problems, while the
   * same line of the same file keeps its id on every replay.
   */
  private String id(LineReader.Line line) {
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(line.bytes());
      return stem + "-" + line.number() + "-" + java.util.HexFormat.of().formatHex(digest, 0, 4);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private Item reject(LineReader.Line line, String reason, byte[] raw) {
    return new Item.Rejected("file:" + file, line.number(), reason, raw);
  }

  /**
   * Reads '\n'-terminated lines as bytes, keeping at most {@code limit} bytes of each; the limit
   * counts content only, so a "\r\n" ending does not make a line of exactly {@code limit} bytes too long.
   */
  static final class LineReader {
    record Line(long number, byte[] bytes, boolean truncated) {}

    private final InputStream in;
    private final int limit;
    private long number;

    LineReader(InputStream in, int limit) {
      this.in = in;
      this.limit = limit;
    }

    long number() {
      return number;
    }

    /** The next line (without its '\n' or '\r\n'), or null at the end of the input. */
    Line next() throws IOException {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      boolean truncated = false;
      int b = in.read();
      if (b < 0) {
        return null;
      }
      number++;
      while (b >= 0 && b != '\n') {
        if (buf.size() <= limit) { // one byte over the limit: it may be the '\r' of "\r\n"
          buf.write(b);
        } else {
          truncated = true;
        }
        b = in.read();
      }
      byte[] bytes = buf.toByteArray();
      if (!truncated && bytes.length > 0 && bytes[bytes.length - 1] == '\r') {
        bytes = Arrays.copyOf(bytes, bytes.length - 1);
      }
      if (bytes.length > limit) {
        truncated = true;
        bytes = Arrays.copyOf(bytes, limit);
      }
      return new Line(number, bytes, truncated);
    }
  }
}
