package io.thinkstream.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (8-byte little-endian header length, JSON header, raw little-endian
 * data), written and read here rather than through {@code NDList.encode/decode} because the
 * Hugging Face loader wants {@code "__metadata__": {"format": "pt"}} and DJL cannot hold BF16:
 * BF16 and F16 tensors are widened to F32 while reading.
 */
public final class SafeTensors {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SafeTensors() {}

  /** Writes tensors in map order; F32 and F64 are written as they are. */
  public static void write(OutputStream out, Map<String, NDArray> tensors) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      NDArray a = e.getValue();
      long bytes = a.size() * a.getDataType().getNumOfBytes();
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", code(a.getDataType(), e.getKey()));
      var shape = t.putArray("shape");
      for (long d : a.getShape().getShape()) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8; // keeps the data 8-byte aligned, as the reference writer does
    byte[] head = new byte[padded];
    java.util.Arrays.fill(head, (byte) ' ');
    System.arraycopy(json, 0, head, 0, json.length);
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
    out.write(head);
    for (NDArray a : tensors.values()) {
      ByteBuffer data = a.toByteBuffer(); // native order: little-endian on every platform DJL ships
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      out.write(bytes);
    }
  }

  /** Reads every tensor of {@code file} into {@code manager}; BF16 and F16 become FLOAT32. */
  public static Map<String, NDArray> read(Path file, NDManager manager) throws IOException {
    Map<String, NDArray> out = new LinkedHashMap<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(len, 0);
      long headerLen = len.flip().getLong();
      if (headerLen <= 0 || headerLen > 100_000_000 || 8 + headerLen > ch.size()) {
        throw new IOException(file + " is not a safetensors file: header length " + headerLen);
      }
      ByteBuffer head = ByteBuffer.allocate((int) headerLen);
      ch.read(head, 8);
      JsonNode header = JSON.readTree(new String(head.array(), StandardCharsets.UTF_8));
      long base = 8 + headerLen;
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        JsonNode t = e.getValue();
        long begin = t.get("data_offsets").get(0).asLong();
        long end = t.get("data_offsets").get(1).asLong();
        long[] dims = new long[t.get("shape").size()];
        for (int i = 0; i < dims.length; i++) {
          dims[i] = t.get("shape").get(i).asLong();
        }
        MappedByteBuffer raw = ch.map(FileChannel.MapMode.READ_ONLY, base + begin, end - begin);
        raw.order(ByteOrder.LITTLE_ENDIAN);
        out.put(e.getKey(), tensor(manager, t.get("dtype").asText(), raw, new Shape(dims), e.getKey()));
      }
    }
    return out;
  }

  private static NDArray tensor(NDManager manager, String dtype, ByteBuffer raw, Shape shape, String name) {
    int n = Math.toIntExact(shape.size());
    switch (dtype) {
      case "F32" -> {
        float[] f = new float[n];
        raw.asFloatBuffer().get(f);
        return manager.create(f, shape);
      }
      case "F64" -> {
        double[] d = new double[n];
        raw.asDoubleBuffer().get(d);
        return manager.create(d, shape);
      }
      case "BF16" -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = Float.intBitsToFloat((raw.getShort(2 * i) & 0xFFFF) << 16); // bf16 is fp32's top half
        }
        return manager.create(f, shape);
      }
      case "F16" -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = halfToFloat(raw.getShort(2 * i));
        }
        return manager.create(f, shape);
      }
      default -> throw new IllegalArgumentException("tensor '" + name + "' has unsupported dtype " + dtype);
    }
  }

  private static String code(DataType type, String name) {
    return switch (type) {
      case FLOAT32 -> "F32";
      case FLOAT64 -> "F64";
      default -> throw new IllegalArgumentException("tensor '" + name + "' has unsupported dtype " + type);
    };
  }

  /** IEEE 754 half precision to float (Float.float16ToFloat arrives only in Java 20). */
  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits >>> 15) << 31;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant / 1024f / 16384f; // subnormal: mant * 2^-24
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }
}
