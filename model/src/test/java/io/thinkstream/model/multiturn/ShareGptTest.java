package io.thinkstream.model.multiturn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShareGptTest {
  @TempDir
  Path dir;

  @Test
  void readsTurnsReasoningAndASystemPrompt() throws IOException {
    Path f = dir.resolve("chats.jsonl");
    Files.writeString(f, """
        {"id": "a", "conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4", "reasoning": "2+2=4"}, {"from": "human", "value": "times 3?"}, {"from": "gpt", "value": "12"}]}

        {"conversations": [{"from": "user", "value": "hi"}, {"from": "assistant", "value": "hello", "reasoning": null}]}
        """);
    List<Conversation> convs = ShareGpt.read(f);
    assertEquals(2, convs.size());
    Conversation a = convs.get(0);
    assertEquals("a", a.id());
    assertEquals(new Conversation.Turn("Be brief.\n2+2?", "2+2=4", "4"), a.turns().get(0));
    assertEquals(new Conversation.Turn("times 3?", "", "12"), a.turns().get(1));
    assertEquals("line-3", convs.get(1).id(), "rows without an id are named by their line");
    assertEquals(new Conversation.Turn("hi", "", "hello"), convs.get(1).turns().get(0));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"\"}]}"
          + "|message 2: empty answer (turn 1)",
      "not json|not JSON: ",
      "[1, 2]|not a JSON object",
      "{\"id\": 1}|no \"conversations\" array",
      "{\"conversations\": [{\"from\": \"gpt\", \"value\": \"a\"}]}"
          + "|message 1: an assistant message without a human message before it",
      "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"human\", \"value\": \"q\"}]}"
          + "|message 2: two human messages in a row",
      "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}]}|the last human message has no assistant answer",
      "{\"conversations\": []}|no human/assistant turns",
      "{\"conversations\": [{\"from\": \"bot\", \"value\": \"q\"}]}"
          + "|message 1: unknown role \"bot\" (expected human, user, gpt, assistant or system)",
      "{\"conversations\": [{\"from\": \"human\", \"value\": 3}]}|message 1: \"value\" must be a string",
      "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\", \"reasoning\": \"r\"}]}"
          + "|message 1: \"reasoning\" belongs on assistant messages only",
      "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"a\", \"reasoning\": 5}]}"
          + "|message 2: \"reasoning\" must be a string",
      "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"system\", \"value\": \"s\"}]}"
          + "|message 2: a system message may only come first",
  })
  void aBadRowStopsTheReadWithItsLineNumber(String row, String reason) throws IOException {
    Path f = dir.resolve("bad.jsonl");
    String good = "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"a\"}]}";
    Files.writeString(f, good + "\n" + good + "\n" + row + "\n" + good + "\n");
    ShareGpt.BadRow e = assertThrows(ShareGpt.BadRow.class, () -> ShareGpt.read(f));
    assertEquals(3, e.line());
    assertEquals(true, e.getMessage().startsWith(f + ":3: " + reason), e.getMessage());
  }

  @Test
  void invalidUtf8IsABadRowToo() throws IOException {
    Path f = dir.resolve("latin1.jsonl");
    Files.write(f, new byte[] {'{', '"', (byte) 0xE9, '"', '}', '\n'});
    ShareGpt.BadRow e = assertThrows(ShareGpt.BadRow.class, () -> ShareGpt.read(f));
    assertEquals(f + ":1: not valid UTF-8", e.getMessage());
  }
}
