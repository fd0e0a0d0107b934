package io.thinkstream.schemas;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the project's shared data ({@code shared/data}, beside the checkout or inside it) for the
 * tests of every module (this class ships in the schemas test-jar). A missing file fails the test.
 */
public final class SharedData {
  private SharedData() {}

  public static Path gsm8k(String file) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      for (Path candidate : new Path[] {dir.resolve("shared/data/gsm8k").resolve(file),
          dir.resolveSibling("shared").resolve("data/gsm8k").resolve(file)}) {
        if (Files.isRegularFile(candidate)) {
          return candidate;
        }
      }
    }
    throw new AssertionError("shared/data/gsm8k/" + file + " not found beside or above " + Path.of("").toAbsolutePath());
  }
}
