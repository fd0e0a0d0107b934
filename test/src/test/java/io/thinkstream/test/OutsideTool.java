package io.thinkstream.test;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * A program from outside the JVM that a test needs (e.g. kcat, a non-Java Kafka client). Where it
 * is missing the test is skipped with the reason, so {@code ./mvnw verify} passes on a machine
 * with only Java; CI installs the tools and sets {@value #REQUIRE} = 1, which turns that skip into
 * a failure, so CI never skips such a test.
 */
final class OutsideTool {
  static final String REQUIRE = "THINKSTREAM_REQUIRE_TOOLS";

  private OutsideTool() {}

  /** The tool's path on PATH; skips (or, under {@value #REQUIRE}=1, fails) the test when it is missing. */
  static Path require(String name, String install) {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    String reason = name + " is not on PATH (install it with: " + install + ")";
    if ("1".equals(System.getenv(REQUIRE))) {
      fail(reason + "; " + REQUIRE + "=1 requires every outside tool");
    }
    Assumptions.abort(reason);
    throw new AssertionError("unreachable");
  }
}
