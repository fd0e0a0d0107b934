package io.thinkstream.schemas;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.apache.avro.InvalidNumberEncodingException;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * Avro's binary decoding of one in-memory record body, refusing any string or bytes length and
 * any collection block count larger than the bytes still unread. Avro allocates a value's buffer
 * before reading it, so without this check a corrupt 18-byte record claiming a 1.5 GB string costs
 * 1.5 GB of heap (an OutOfMemoryError on a small consumer) before the input runs out. Counts are
 * bounded by bytes because every collection item of a thinkstream schema takes at least one byte
 * (no schema holds an array or map of nulls or of empty records).
 *
 * <p>It reads Avro's binary encoding (zig-zag varints, little-endian floats, length-prefixed
 * strings and bytes, blocked arrays and maps) straight from the array: Avro's direct decoder
 * reads each varint byte through a synchronized {@code ByteArrayInputStream.read()}, which was
 * most of a record's decoding time outside its strings.
 */
final class BoundedDecoder extends Decoder {
  private final byte[] bytes;
  private int pos;

  BoundedDecoder(byte[] bytes, int offset) {
    this.bytes = bytes;
    this.pos = offset;
  }

  /** Bytes not read yet: a whole record read with some left over was not one record. */
  int remaining() {
    return bytes.length - pos;
  }

  /** Fails unless {@code n} is between 0 and the number of unread bytes. */
  private int bounded(long n, String what) throws IOException {
    if (n < 0) {
      throw new IOException("negative " + what + " " + n);
    }
    if (n > remaining()) {
      throw new EOFException(what + " " + n + " exceeds the " + remaining() + " bytes left");
    }
    return (int) n;
  }

  /** Moves past {@code n} bytes, failing if fewer are left; returns where they start. */
  private int take(int n) throws EOFException {
    if (n < 0 || n > remaining()) {
      throw new EOFException("need " + n + " bytes, " + remaining() + " left");
    }
    int at = pos;
    pos += n;
    return at;
  }

  private int next() throws EOFException {
    if (pos >= bytes.length) {
      throw new EOFException("the record ends inside a number");
    }
    return bytes[pos++] & 0xff;
  }

  @Override
  public long readLong() throws IOException {
    long raw = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = next();
      raw |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    throw new InvalidNumberEncodingException("Invalid long encoding");
  }

  @Override
  public int readInt() throws IOException {
    int raw = 0;
    for (int shift = 0; shift < 32; shift += 7) {
      int b = next();
      raw |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    throw new InvalidNumberEncodingException("Invalid int encoding");
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    int length = bounded(readLong(), "string length");
    Utf8 result = old != null ? old : new Utf8();
    result.setByteLength(length);
    System.arraycopy(bytes, take(length), result.getBytes(), 0, length);
    return result;
  }

  @Override
  public String readString() throws IOException {
    int length = bounded(readLong(), "string length");
    return new String(bytes, take(length), length, StandardCharsets.UTF_8);
  }

  @Override
  public void skipString() throws IOException {
    take(bounded(readLong(), "string length"));
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    int length = bounded(readLong(), "bytes length");
    int at = take(length);
    byte[] copy = new byte[length];
    System.arraycopy(bytes, at, copy, 0, length);
    return ByteBuffer.wrap(copy);
  }

  @Override
  public void skipBytes() throws IOException {
    take(bounded(readLong(), "bytes length"));
  }

  /** A block's item count; a negative count is followed by the block's size in bytes. */
  private long blockCount(String what) throws IOException {
    long count = readLong();
    if (count < 0) {
      readLong();
      count = -count;
    }
    return bounded(count, what);
  }

  @Override
  public long readArrayStart() throws IOException {
    return blockCount("array block count");
  }

  @Override
  public long arrayNext() throws IOException {
    return blockCount("array block count");
  }

  @Override
  public long readMapStart() throws IOException {
    return blockCount("map block count");
  }

  @Override
  public long mapNext() throws IOException {
    return blockCount("map block count");
  }

  /** Skips the blocks that carry their byte size; returns the count of the first block that does not. */
  private long skipSizedBlocks() throws IOException {
    long count = readLong();
    while (count < 0) {
      take(bounded(readLong(), "block size"));
      count = readLong();
    }
    return count;
  }

  @Override
  public long skipArray() throws IOException {
    return skipSizedBlocks();
  }

  @Override
  public long skipMap() throws IOException {
    return skipSizedBlocks();
  }

  @Override
  public void readNull() {}

  @Override
  public boolean readBoolean() throws IOException {
    return next() == 1;
  }

  @Override
  public float readFloat() throws IOException {
    return ByteBuffer.wrap(bytes, take(4), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
  }

  @Override
  public double readDouble() throws IOException {
    return ByteBuffer.wrap(bytes, take(8), 8).order(ByteOrder.LITTLE_ENDIAN).getDouble();
  }

  @Override
  public void readFixed(byte[] into, int start, int length) throws IOException {
    System.arraycopy(bytes, take(length), into, start, length);
  }

  @Override
  public void skipFixed(int length) throws IOException {
    take(length);
  }

  @Override
  public int readEnum() throws IOException {
    return readInt();
  }

  @Override
  public int readIndex() throws IOException {
    return readInt();
  }
}
