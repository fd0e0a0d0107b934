package io.thinkstream.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyTest {
  @TempDir Path dir;

  @Test
  void gsm8kTestSetSummary() throws Exception {
    StringWriter text = new StringWriter();
    Verify.Result r = Verify.run(SharedGsm8k.find("test.jsonl"), new PrintWriter(text));
    assertEquals(1319, r.rows());
    assertEquals(1319, r.answersOk());
    assertEquals(0, r.badLines());
    assertTrue(r.stepsChecked() > 3000 && r.stepsOk() >= r.stepsChecked() * 0.99, r.json());
    List<String> lines = text.toString().lines().toList();
    assertEquals(r.json(), lines.get(lines.size() - 1));
    System.out.println(r.json());
  }

  @Test
  void faultyRowsAreNamed() throws Exception {
    Path file = dir.resolve("f.jsonl");
    Files.writeString(file, """
        {"question":"q","answer":"2*3=<<2*3=6>>6\\n#### 6"}
        {"question":"q","answer":"2*3=<<2*3=7>>7\\n#### 7"}
        not json
        {"question":"q","answer":"no final line"}
        """);
    StringWriter text = new StringWriter();
    Verify.Result r = Verify.run(file, new PrintWriter(text));
    assertEquals(new Verify.Result(4, 1, 2, 2, 1, 1), r);
    assertTrue(text.toString().contains("line 2: step 1: 2*3 = 6, not 7"), text.toString());
    assertTrue(text.toString().contains("line 4: no final answer"), text.toString());
  }

  @Test
  void invalidUtf8IncludingOverlongFormsIsNamedByLineAndTheRestIsChecked() throws Exception {
    Path file = dir.resolve("bad.jsonl");
    byte[] good = "{\"question\":\"q\",\"answer\":\"#### 6\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    bytes.write(good);
    bytes.write(new byte[] {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', '}', '\n'}); // overlong '/'
    bytes.write(new byte[] {(byte) 0xFF, '\n'});
    bytes.write(good);
    Files.write(file, bytes.toByteArray());
    StringWriter text = new StringWriter();
    Verify.Result r = Verify.run(file, new PrintWriter(text));
    assertEquals(4, r.rows());
    assertEquals(2, r.rowsOk());
    assertEquals(2, r.badLines());
    assertTrue(text.toString().contains("line 2: not valid UTF-8"), text.toString());
    assertTrue(text.toString().contains("line 3: not valid UTF-8"), text.toString());
  }
}
