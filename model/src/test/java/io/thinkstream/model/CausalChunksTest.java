package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.thinkstream.model.internal.Attention;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The causal pass in query chunks ({@link Transformer#forwardCausal}) computes the same logits and
 * gradients as the dense pass over rows long enough for several chunks (and a short last one),
 * with packed segments and padding in the mask, in float64.
 */
class CausalChunksTest {
  static final ModelConfig CONFIG = new ModelConfig(31, 16, 2, 4, 2, 24, 10_000, 256, 1e-5, false);
  static final int T = 2 * Attention.CHUNK + 21;

  @Test
  void chunkEndsCoverTheRow() {
    assertArrayEquals(new long[] {64, 128, 149}, Attention.chunkEnds(149));
    assertArrayEquals(new long[] {64}, Attention.chunkEnds(64));
    assertArrayEquals(new long[] {5}, Attention.chunkEnds(5));
  }

  @Test
  void chunkedCausalPassEqualsTheDensePass() {
    SplittableRandom rnd = new SplittableRandom(4);
    int[][] tokens = new int[2][T];
    int[][] segments = new int[2][T];
    for (int r = 0; r < 2; r++) {
      for (int i = 0; i < T; i++) {
        tokens[r][i] = rnd.nextInt(CONFIG.vocabSize());
        segments[r][i] = r == 0 ? (i < 90 ? 1 : 2) : (i < T - 17 ? 1 : 0); // packed; padded
      }
    }
    try (Transformer model = Transformer.init(CONFIG, Device.cpu(), DataType.FLOAT64, 5)) {
      model.requireGradients();
      List<double[]> dense = pass(model, tokens, segments, false);
      List<double[]> chunked = pass(model, tokens, segments, true);
      for (int i = 0; i < dense.size(); i++) {
        double[] want = dense.get(i);
        double[] have = chunked.get(i);
        for (int j = 0; j < want.length; j++) {
          assertEquals(want[j], have[j], 1e-12 + 1e-9 * Math.abs(want[j]), "array " + i + " [" + j + "]");
        }
      }
    }
  }

  /** Logits of segment positions, then every parameter's gradient of their weighted sum. */
  private static List<double[]> pass(Transformer model, int[][] tokens, int[][] segments, boolean chunked) {
    List<double[]> out = new ArrayList<>();
    try (NDManager step = model.newStepManager(); GradientCollector gc = step.getEngine().newGradientCollector()) {
      NDArray ids = step.create(tokens); // (B, T)
      NDArray positions = step.create(Masks.positions(segments)); // (B, T)
      NDArray mask = Masks.causal(step, segments); // (B, 1, T, T)
      NDArray logits = chunked ? model.forwardCausal(ids, positions, mask) : model.forward(ids, positions, mask, null); // (B, T, V)
      float[][] keep = new float[tokens.length][T];
      for (int r = 0; r < tokens.length; r++) {
        for (int i = 0; i < T; i++) {
          keep[r][i] = segments[r][i] == 0 ? 0f : 1f; // padding rows see nothing: their logits are arbitrary
        }
      }
      NDArray w = step.create(keep).toType(DataType.FLOAT64, false).expandDims(2); // (B, T, 1)
      NDArray kept = logits.mul(w); // (B, T, V)
      out.add(kept.toDoubleArray());
      double[] weights = new SplittableRandom(9).doubles(kept.size(), -1, 1).toArray();
      NDArray probe = step.create(weights, kept.getShape()); // (B, T, V)  the same on both passes
      gc.backward(kept.mul(probe).sum()); // ()
    }
    for (NDArray p : model.parameters().values()) {
      try (NDArray g = p.getGradient()) {
        out.add(g.toDoubleArray());
        g.subi(g);
      }
    }
    return out;
  }
}
