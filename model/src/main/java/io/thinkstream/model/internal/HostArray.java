package io.thinkstream.model.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import java.nio.FloatBuffer;

/**
 * A float32 CPU array and Java's view of its memory, without a copy: the decoding step reads a
 * projection's output and writes the rotated queries, keys and values through such views, where a
 * dozen small libtorch ops (each a JNI call, a dispatch and an allocation) did the same work on a
 * few thousand floats. A view is valid while its array is open: it must not outlive the array.
 */
public record HostArray(NDArray array, FloatBuffer floats) {
  /** Whether arrays of {@code dtype} on {@code device} can be viewed. */
  public static boolean possible(Device device, DataType dtype) {
    return Device.Type.CPU.equals(device.getDeviceType()) && dtype == DataType.FLOAT32;
  }

  /** A new zero array of {@code shape} in {@code manager} with its view. */
  public static HostArray zeros(NDManager manager, Shape shape) {
    NDArray a = manager.zeros(shape, DataType.FLOAT32);
    return new HostArray(a, view(a));
  }

  /**
   * A view of a float32 CPU array's memory. The array must be contiguous (an op's fresh result,
   * or zeros): DJL views a strided array through a contiguous copy, which writes would not reach.
   */
  public static FloatBuffer view(NDArray a) {
    if (!possible(a.getDevice(), a.getDataType())) {
      throw new IllegalArgumentException("only a float32 CPU array can be viewed, not " + a.getDataType() + " on " + a.getDevice());
    }
    return ((PtNDArray) a).toByteBuffer(true).asFloatBuffer();
  }
}
