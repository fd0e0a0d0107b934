package io.thinkstream.schemas;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

/**
 * Avro's binary decoding of one in-memory record body, refusing any string or bytes length and
 * any collection block count larger than the bytes still unread. Avro allocates a value's buffer
 * before reading it, so without this check a corrupt 18-byte record claiming a 1.5 GB string costs
 * 1.5 GB of heap (an OutOfMemoryError on a small consumer) before the input runs out. Counts are
 * bounded by bytes because every collection item of a thinkstream schema takes at least one byte
 * (no schema holds an array or map of nulls or of empty records).
 */
final class BoundedDecoder extends Decoder {
  private final ByteArrayInputStream in;
  /** Direct, i.e. unbuffered: {@code in.available()} is exactly the number of unread bytes. */
  private final BinaryDecoder binary;

  BoundedDecoder(byte[] bytes, int offset) {
    this.in = new ByteArrayInputStream(bytes, offset, bytes.length - offset);
    this.binary = DecoderFactory.get().directBinaryDecoder(in, null);
  }

  /** Bytes not read yet: a whole record read with some left over was not one record. */
  int remaining() {
    return in.available();
  }

  /** Fails unless {@code n} is between 0 and the number of unread bytes. */
  private int bounded(long n, String what) throws IOException {
    if (n < 0) {
      throw new IOException("negative " + what + " " + n);
    }
    if (n > in.available()) {
      throw new EOFException(what + " " + n + " exceeds the " + in.available() + " bytes left");
    }
    return (int) n;
  }

  private byte[] lengthPrefixed(String what) throws IOException {
    byte[] bytes = new byte[bounded(binary.readLong(), what)];
    binary.readFixed(bytes);
    return bytes;
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    int length = bounded(binary.readLong(), "string length");
    Utf8 result = old != null ? old : new Utf8();
    result.setByteLength(length);
    binary.readFixed(result.getBytes(), 0, length);
    return result;
  }

  @Override
  public String readString() throws IOException {
    return new String(lengthPrefixed("string length"), StandardCharsets.UTF_8);
  }

  @Override
  public void skipString() throws IOException {
    binary.skipFixed(bounded(binary.readLong(), "string length"));
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    return ByteBuffer.wrap(lengthPrefixed("bytes length"));
  }

  @Override
  public void skipBytes() throws IOException {
    binary.skipFixed(bounded(binary.readLong(), "bytes length"));
  }

  @Override
  public long readArrayStart() throws IOException {
    return bounded(binary.readArrayStart(), "array block count");
  }

  @Override
  public long arrayNext() throws IOException {
    return bounded(binary.arrayNext(), "array block count");
  }

  @Override
  public long readMapStart() throws IOException {
    return bounded(binary.readMapStart(), "map block count");
  }

  @Override
  public long mapNext() throws IOException {
    return bounded(binary.mapNext(), "map block count");
  }

  // Skipping allocates nothing; the rest reads fixed-size values.

  @Override
  public long skipArray() throws IOException {
    return binary.skipArray();
  }

  @Override
  public long skipMap() throws IOException {
    return binary.skipMap();
  }

  @Override
  public void readNull() throws IOException {
    binary.readNull();
  }

  @Override
  public boolean readBoolean() throws IOException {
    return binary.readBoolean();
  }

  @Override
  public int readInt() throws IOException {
    return binary.readInt();
  }

  @Override
  public long readLong() throws IOException {
    return binary.readLong();
  }

  @Override
  public float readFloat() throws IOException {
    return binary.readFloat();
  }

  @Override
  public double readDouble() throws IOException {
    return binary.readDouble();
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    binary.readFixed(bytes, start, length);
  }

  @Override
  public void skipFixed(int length) throws IOException {
    binary.skipFixed(length);
  }

  @Override
  public int readEnum() throws IOException {
    return binary.readEnum();
  }

  @Override
  public int readIndex() throws IOException {
    return binary.readIndex();
  }
}
