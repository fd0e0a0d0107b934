package io.thinkstream.schemas.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class PromptFormatTest {
  @Test
  void promptIsQuestionNewlineThenTag() {
    assertEquals("Mia has 3 coins.\n<think2>", PromptFormat.prompt("Mia has 3 coins.", "<think2>"));
    assertEquals("Mia has 3 coins.\n", PromptFormat.prompt("Mia has 3 coins.", null));
  }

  @Test
  void questionIsTheInverseOfPrompt() {
    assertEquals(java.util.Optional.of("Mia has 3 coins."),
        PromptFormat.question(PromptFormat.prompt("Mia has 3 coins.", "<think2>"), "<think2>"));
    assertEquals(java.util.Optional.of("Mia has 3 coins."), PromptFormat.question("Mia has 3 coins.\n", null));
    assertEquals(java.util.Optional.empty(), PromptFormat.question("Mia has 3 coins.\n<think1>", "<think2>"));
    assertEquals(java.util.Optional.empty(), PromptFormat.question("Mia has 3 coins.", null));
  }

  @Test
  void tagsAreNumberedFromOneAndParseBack() {
    assertEquals(List.of("<think1>", "<think2>", "<think3>"), PromptFormat.tags(3));
    assertEquals(OptionalInt.of(12), PromptFormat.tagIndex("<think12>"));
    assertEquals(OptionalInt.empty(), PromptFormat.tagIndex("<think0>"));
    assertEquals(OptionalInt.empty(), PromptFormat.tagIndex("<think>"));
    assertEquals(OptionalInt.empty(), PromptFormat.tagIndex("<thinkx>"));
    assertThrows(IllegalArgumentException.class, () -> PromptFormat.tag(0));
  }

  @Test
  void splitIsTheInverseOfCompletion() {
    List<String> steps = List.of("3+4=<<3+4=7>>7", "7*2=<<7*2=14>>14");
    String text = PromptFormat.completion(steps, "#### 14");
    assertEquals("3+4=<<3+4=7>>7\n7*2=<<7*2=14>>14\n#### 14", text);
    PromptFormat.Completion c = PromptFormat.split(text);
    assertEquals(steps, c.steps());
    assertEquals("#### 14", c.answer());
    assertEquals(text, c.text());
  }

  @Test
  void theAnswerLineMayBeAnAnswerIsSentence() {
    PromptFormat.Completion c = PromptFormat.split("We had 7. 7-2=<<7-2=5>>5.\r\nThe answer is 5.\n");
    assertEquals(List.of("We had 7. 7-2=<<7-2=5>>5."), c.steps());
    assertEquals("The answer is 5.", c.answer());
  }

  @Test
  void aCompletionCutOffMidReasoningHasNoAnswer() {
    PromptFormat.Completion c = PromptFormat.split("3+4=<<3+4=7>>7\n\n7*2=<<7*2");
    assertEquals(List.of("3+4=<<3+4=7>>7", "7*2=<<7*2"), c.steps());
    assertTrue(c.answer().isEmpty());
    assertTrue(PromptFormat.split("").steps().isEmpty());
  }

  @Test
  void thePrefixOfAFirstPitSearchEndsAtALineBreak() {
    String prompt = PromptFormat.prompt("Q?", "<think1>");
    assertEquals("Q?\n<think1>a\nb\n", PromptFormat.prefix(prompt, List.of("a", "b")));
    assertEquals(prompt, PromptFormat.prefix(prompt, List.of()));
    // the prefix and the rest of the completion give back the whole completion
    String completion = PromptFormat.completion(List.of("a", "b"), "#### 1");
    assertEquals(prompt + completion, PromptFormat.prefix(prompt, List.of("a")) + "b\n#### 1");
  }
}
