package io.thinkstream.test;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the project's shared data ({@code shared/data}, beside the checkout or inside it). */
final class SharedData {
  private SharedData() {}

  static Path gsm8k(String file) {
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
