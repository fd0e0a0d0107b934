package io.thinkstream.model.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import org.junit.jupiter.api.Test;

class RmsNormTest {
  /**
   * The decoding step's one-op norm over [x | c], read through stepInput's matrix, is the weighted
   * RMSNorm read through the plain matrix, in float64, at small and large activations (where eps
   * matters and where it does not), to 1e-7 relative: the constant is a float, as the models'
   * weights are; stepOutput's zero row keeps the constant column exactly.
   */
  @Test
  void stepNormThroughItsMatricesEqualsTheNormThroughTheMatrix() {
    try (NDManager m = NDManager.newBaseManager()) {
      int c = 24;
      double eps = 1e-5;
      NDArray weight = m.randomUniform(0.5f, 1.5f, new Shape(c)).toType(DataType.FLOAT64, false); // (C)
      RmsNorm norm = new RmsNorm(weight, eps);
      NDArray w = m.randomNormal(new Shape(10, c)).toType(DataType.FLOAT64, false); // (R, C)
      NDArray stepW = norm.stepInput(w, m); // (R, C+1)
      assertEquals(new Shape(10, c + 1), stepW.getShape());
      for (double scale : new double[] {1e-3, 1, 30}) {
        NDArray x = m.randomNormal(new Shape(6, c)).toType(DataType.FLOAT64, false).mul(scale); // (B, C)
        double[] expected = Linear.linear(norm.forward(x.expandDims(0)).squeeze(0), w).head().toDoubleArray(); // (B, R)
        NDArray column = norm.stepColumn(m, 6, DataType.FLOAT64); // (B, 1)
        NDArray stream = NDArrays.concat(new NDList(x, column), 1); // (B, C+1)
        double[] actual = Linear.linear(RmsNorm.step(stream), stepW).head().toDoubleArray(); // (B, R)
        assertArrayEquals(expected, actual, 1e-7 * maxAbs(expected), "activations of scale " + scale);

        NDArray out = m.randomNormal(new Shape(c, 7)).toType(DataType.FLOAT64, false); // (C, K)
        NDArray y = m.randomNormal(new Shape(6, 7)).toType(DataType.FLOAT64, false); // (B, K)
        NDArray next = Linear.linear(y, RmsNorm.stepOutput(out, m), stream).head(); // (B, C+1)
        assertArrayEquals(column.toDoubleArray(), next.get(":, " + c + ":").toDoubleArray(), 0.0, "the constant column");
      }
    }
  }

  private static double maxAbs(double[] a) {
    double m = 0;
    for (double v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }
}
