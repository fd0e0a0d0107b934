package io.thinkstream.streams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.schemas.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The GSM8K rows of the project's shared data ({@code shared/data/gsm8k}, beside the checkout or above it). */
final class SharedGsm8k {
  record Row(String question, String answer) {}

  private SharedGsm8k() {}

  static List<Row> read(String file) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Row> rows = new ArrayList<>();
    for (String line : Files.readAllLines(find(file))) {
      if (!line.isBlank()) {
        JsonNode node = json.readTree(line);
        rows.add(new Row(node.get("question").asText(), node.get("answer").asText()));
      }
    }
    return rows;
  }

  static Path find(String file) {
    return SharedData.gsm8k(file);
  }
}
