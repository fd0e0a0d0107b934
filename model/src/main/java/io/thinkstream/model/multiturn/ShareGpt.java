package io.thinkstream.model.multiturn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads multi-turn conversations in ShareGPT JSONL: one object per line with a
 * {@code conversations} array of {@code {"from": ..., "value": ...}} messages, human and assistant
 * alternating from a human message to an assistant one. Assistant messages may carry their hidden
 * chain of thought in a {@code reasoning} field. A leading {@code system} message is prefixed to
 * the first human message. Roles: {@code human}/{@code user}, {@code gpt}/{@code assistant},
 * {@code system}. The first bad row stops the read with its line number and what is wrong.
 */
public final class ShareGpt {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A row that is not a valid conversation; the message starts with {@code file:line:}. */
  public static final class BadRow extends IllegalArgumentException {
    private final long line;

    BadRow(String source, long line, String reason) {
      super(source + ":" + line + ": " + reason);
      this.line = line;
    }

    public long line() {
      return line;
    }
  }

  private ShareGpt() {}

  /** Every conversation of {@code file}; blank lines are skipped. */
  public static List<Conversation> read(Path file) throws IOException {
    List<Conversation> out = new ArrayList<>();
    var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try (BufferedReader in = new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file), decoder))) {
      long line = 0;
      String text;
      while (true) {
        try {
          text = in.readLine();
        } catch (CharacterCodingException e) {
          throw new BadRow(file.toString(), line + 1, "not valid UTF-8");
        }
        if (text == null) {
          break;
        }
        line++;
        if (!text.isBlank()) {
          out.add(parse(text, file.toString(), line));
        }
      }
    }
    return out;
  }

  /** One JSONL row; {@code source} and {@code line} only label errors. */
  public static Conversation parse(String row, String source, long line) {
    JsonNode node;
    try {
      node = JSON.readTree(row.startsWith("\uFEFF") ? row.substring(1) : row);
    } catch (JsonProcessingException e) {
      throw new BadRow(source, line, "not JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new BadRow(source, line, "not a JSON object");
    }
    JsonNode messages = node.get("conversations");
    if (messages == null || !messages.isArray()) {
      throw new BadRow(source, line, "no \"conversations\" array");
    }
    String id = node.hasNonNull("id") && node.get("id").isValueNode() ? node.get("id").asText() : "line-" + line;
    List<Conversation.Turn> turns = new ArrayList<>();
    String system = "";
    String human = null;
    for (int m = 0; m < messages.size(); m++) {
      JsonNode msg = messages.get(m);
      String where = "message " + (m + 1);
      if (!msg.isObject()) {
        throw new BadRow(source, line, where + " is not an object");
      }
      String role = text(msg, "from", source, line, where);
      String value = text(msg, "value", source, line, where);
      boolean hasReasoning = msg.hasNonNull("reasoning");
      switch (role) {
        case "system" -> {
          if (m != 0) {
            throw new BadRow(source, line, where + ": a system message may only come first");
          }
          system = value;
        }
        case "human", "user" -> {
          if (human != null) {
            throw new BadRow(source, line, where + ": two human messages in a row");
          }
          if (hasReasoning) {
            throw new BadRow(source, line, where + ": \"reasoning\" belongs on assistant messages only");
          }
          human = turns.isEmpty() && !system.isEmpty() ? system + "\n" + value : value;
        }
        case "gpt", "assistant" -> {
          if (human == null) {
            throw new BadRow(source, line, where + ": an assistant message without a human message before it");
          }
          if (value.isBlank()) {
            throw new BadRow(source, line, where + ": empty answer (turn " + (turns.size() + 1) + ")");
          }
          String reasoning = hasReasoning ? text(msg, "reasoning", source, line, where) : "";
          turns.add(new Conversation.Turn(human, reasoning, value));
          human = null;
        }
        default -> throw new BadRow(source, line, where + ": unknown role \"" + role
            + "\" (expected human, user, gpt, assistant or system)");
      }
    }
    if (human != null) {
      throw new BadRow(source, line, "the last human message has no assistant answer");
    }
    if (turns.isEmpty()) {
      throw new BadRow(source, line, "no human/assistant turns");
    }
    return new Conversation(id, turns);
  }

  private static String text(JsonNode msg, String field, String source, long line, String where) {
    JsonNode v = msg.get(field);
    if (v == null || !v.isTextual()) {
      throw new BadRow(source, line, where + ": \"" + field + "\" must be a string");
    }
    return v.asText();
  }
}
