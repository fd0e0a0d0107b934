package io.thinkstream.streams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.schemas.gsm8k.Gsm8kSolution;
import io.thinkstream.schemas.text.FinalAnswer;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code thinkstream verify --file F}: a data-quality check of a GSM8K-format JSONL file. Every
 * gold solution's calculator annotations are recomputed with the safe arithmetic parser and its
 * final answer must be present, a number, and what the rewards verifier extracts. One line per
 * faulty row, then a JSON summary as the last line.
 */
public final class Verify {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Counts over the file; {@code badLines} are lines that are not a JSON object with an answer. */
  public record Result(long rows, long rowsOk, long answersOk, long stepsChecked, long stepsOk, long badLines) {
    public String json() {
      return JSON.createObjectNode().put("rows", rows).put("rows_ok", rowsOk).put("answers_ok", answersOk)
          .put("steps_checked", stepsChecked).put("steps_ok", stepsOk).put("bad_lines", badLines).toString();
    }
  }

  private Verify() {}

  /** The next line's bytes without its LF (or CRLF); null at the end of the input. */
  private static byte[] readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b = in.read();
    if (b < 0) {
      return null;
    }
    while (b >= 0 && b != '\n') {
      line.write(b);
      b = in.read();
    }
    byte[] out = line.toByteArray();
    return out.length > 0 && out[out.length - 1] == '\r' ? java.util.Arrays.copyOf(out, out.length - 1) : out;
  }

  /** Checks {@code file}, printing each faulty row and then the summary line to {@code out}. */
  public static Result run(Path file, PrintWriter out) throws IOException {
    long rows = 0;
    long rowsOk = 0;
    long answersOk = 0;
    long stepsChecked = 0;
    long stepsOk = 0;
    long bad = 0;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      long lineNo = 0;
      for (byte[] bytes = readLine(in); bytes != null; bytes = readLine(in)) {
        lineNo++;
        String line;
        try {
          // strict: a malformed or overlong sequence is reported with its line, never replaced by U+FFFD
          line = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
          rows++;
          bad++;
          out.println("line " + lineNo + ": not valid UTF-8 (" + e.getMessage() + ")");
          continue;
        }
        if (line.isBlank()) {
          continue;
        }
        rows++;
        String answer;
        try {
          JsonNode node = JSON.readTree(line);
          answer = node == null || !node.path("answer").isTextual() ? null : node.get("answer").asText();
        } catch (IOException e) {
          answer = null;
        }
        if (answer == null) {
          bad++;
          out.println("line " + lineNo + ": not a JSON object with a text 'answer'");
          continue;
        }
        Gsm8kSolution solution = Gsm8kSolution.parse(answer);
        Gsm8kSolution.Check check = solution.check(Optional.empty());
        boolean answerOk = check.finalAnswerOk() && FinalAnswer.extract(answer).matches(solution.finalAnswer().get());
        answersOk += answerOk ? 1 : 0;
        stepsChecked += check.annotations();
        stepsOk += check.annotationsOk();
        if (check.ok() && answerOk) {
          rowsOk++;
        } else {
          out.println("line " + lineNo + ": " + String.join("; ", check.errors())
              + (check.finalAnswerOk() && !answerOk ? "final answer not extracted as written" : ""));
        }
      }
    }
    Result result = new Result(rows, rowsOk, answersOk, stepsChecked, stepsOk, bad);
    out.println(result.json());
    out.flush();
    return result;
  }
}
