package io.thinkstream.schemas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The deduplication contract of the {@code samples} topic: a sample's id is a function of the
 * problem, the policy version, the strategy tag and the seed, so a sampler that re-does work
 * after a crash or a rebalance writes the same ids again and every consumer can drop the repeats.
 */
public final class SampleIds {
  private SampleIds() {}

  /** {@code s-} and 32 hex digits of sha256(problemId, policyVersion, strategy, seed). */
  public static String of(String problemId, long policyVersion, String strategy, long seed) {
    Objects.requireNonNull(problemId, "problemId");
    byte[] digest = sha256(problemId + '\u0000' + policyVersion + '\u0000' + (strategy == null ? "" : strategy)
        + '\u0000' + seed);
    return "s-" + HexFormat.of().formatHex(digest, 0, 16);
  }

  /**
   * The seed of the {@code index}-th draw for {@code key} (a problem id, or a sample id and step
   * for explorations) under the sampler's base seed: the same inputs give the same seed on every
   * sampler, so a retry draws the same tokens.
   */
  public static long seed(long baseSeed, String key, int index) {
    byte[] d = sha256(baseSeed + "\u0000" + key + '\u0000' + index);
    long seed = 0;
    for (int i = 0; i < 8; i++) {
      seed = (seed << 8) | (d[i] & 0xff);
    }
    return seed & Long.MAX_VALUE;
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
