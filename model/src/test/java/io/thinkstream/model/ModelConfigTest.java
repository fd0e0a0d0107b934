package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
  @Test
  void roundTripsThroughConfigJson(@TempDir Path dir) {
    ModelConfig config = ModelConfig.demo(123);
    Path file = dir.resolve("config.json");
    config.write(file, null);
    assertEquals(config, ModelConfig.read(file));
  }

  @Test
  void unknownOrUnsupportedKeysFailLoudly() {
    ObjectNode json = ModelConfig.tiny(10).toJson(null);
    json.put("hiden_size", 3);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(json));
    assertTrue(e.getMessage().contains("hiden_size"), e.getMessage());
    ObjectNode scaled = ModelConfig.tiny(10).toJson(null);
    scaled.putObject("rope_scaling").put("type", "linear");
    assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(scaled));
  }

  @Test
  void invalidShapesNameTheValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ModelConfig(10, 30, 1, 4, 2, 8, 1e4, 16, 1e-5, false));
    assertTrue(e.getMessage().contains("30"), e.getMessage());
  }
}
