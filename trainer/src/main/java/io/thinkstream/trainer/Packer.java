package io.thinkstream.trainer;

import io.thinkstream.model.LmTrainer;
import java.util.List;

/**
 * Packs tokenised (prompt, completion) examples into fixed-length rows, one segment id per
 * example, so a batch wastes little on padding; the segment mask keeps examples apart. The loss
 * counts completion tokens only.
 */
final class Packer {
  /** Token ids of one example; {@code promptLength} leading tokens carry no loss. */
  record Example(int[] tokens, int promptLength) {}

  private Packer() {}

  /** Fills {@code rows} rows of {@code width} tokens from {@code source}, starting at its cursor. */
  static LmTrainer.Batch pack(List<Example> source, int[] cursor, int rows, int width, int pad) {
    int[][] tokens = new int[rows][width];
    int[][] segments = new int[rows][width];
    int[][] targets = new int[rows][width];
    float[][] weights = new float[rows][width];
    for (int r = 0; r < rows; r++) {
      java.util.Arrays.fill(tokens[r], pad);
      int at = 0;
      int segment = 1;
      while (true) {
        Example e = source.get(cursor[0] % source.size());
        if (e.tokens().length > width) {
          throw new IllegalArgumentException("example of " + e.tokens().length + " tokens exceeds row width " + width);
        }
        if (at + e.tokens().length > width) {
          break;
        }
        for (int i = 0; i < e.tokens().length; i++) {
          tokens[r][at + i] = e.tokens()[i];
          segments[r][at + i] = segment;
          if (i + 1 < e.tokens().length) {
            targets[r][at + i] = e.tokens()[i + 1];
            weights[r][at + i] = i + 1 >= e.promptLength() ? 1f : 0f;
          }
        }
        at += e.tokens().length;
        segment++;
        cursor[0]++;
      }
    }
    return new LmTrainer.Batch(tokens, segments, targets, weights);
  }
}
