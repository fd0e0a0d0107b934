package io.thinkstream.streams.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class VerifierTest {
  @Test
  void annotationsAreRecheckedWithoutDecidingCorrectness() {
    Verifier.Verdict v = Verifier.verify(List.of("2*3=<<2*3=6>>6", "6+1=<<6+1=8>>8"), "#### 8", "8");
    assertTrue(v.correct());
    assertEquals(2, v.annotations());
    assertEquals(1, v.annotationsOk());
    assertTrue(v.details().get("annotationErrors").startsWith("step 2"), v.details().toString());
  }

  @Test
  void aCompletionIsVerifiedThroughTheOnePromptFormatSplit() {
    assertTrue(Verifier.verify("3+4=<<3+4=7>>7\n#### 7", "7").correct());
    assertTrue(Verifier.verify("3+4=<<3+4=7>>7\nThe answer is 7.", "7").correct());
    assertFalse(Verifier.verify("3+4=<<3+4=8>>8\n#### 8", "7").correct());
  }
}
