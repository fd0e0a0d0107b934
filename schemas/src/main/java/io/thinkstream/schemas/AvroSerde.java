package io.thinkstream.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka serde for one generated Avro record class, using Avro's single-object encoding
 * (2-byte marker, 8-byte schema fingerprint, binary body). Any Avro client that knows the
 * writer schema can decode a record; a reader given older writer schemas through a
 * {@link SchemaStore} resolves them onto its own schema, which is how schemas evolve.
 * Every failure to encode or decode is a {@link SerializationException} naming the type, and a
 * corrupt record costs no more memory than its own size (see {@link BoundedDecoder}).
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
  private static final int HEADER_BYTES = 10;

  private final Class<T> type;
  private final Schema schema;
  private final long fingerprint;
  private final SpecificData model;
  private final SchemaStore olderSchemas;
  private final DatumWriter<T> writer;
  /** The single-object header: C3 01 and the fingerprint, little-endian. */
  private final byte[] header;
  private final boolean tombstones;
  /** One reader per writer schema met so far, by fingerprint. */
  private final Map<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();

  private AvroSerde(Class<T> type, Schema schema, SchemaStore olderSchemas, boolean tombstones) {
    this.tombstones = tombstones;
    this.type = type;
    this.schema = schema;
    this.fingerprint = SchemaNormalization.parsingFingerprint64(schema);
    this.model = SpecificData.getForClass(type);
    this.olderSchemas = olderSchemas;
    @SuppressWarnings("unchecked")
    DatumWriter<T> writer = (DatumWriter<T>) model.createDatumWriter(schema);
    this.writer = writer;
    this.header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN)
        .put((byte) 0xC3).put((byte) 0x01).putLong(fingerprint).array();
  }

  /**
   * A serde for a generated class: writes its current schema, and reads that and every released
   * version of it in {@link SchemaHistory}.
   */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    return of(type, SchemaHistory.store());
  }

  /** A serde that can also read records written with the schemas that {@code olderSchemas} resolves. */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type, SchemaStore olderSchemas) {
    Objects.requireNonNull(type, "type");
    return new AvroSerde<>(type, SpecificData.get().getSchema(type), olderSchemas, true);
  }

  /**
   * This serde, with null values passed through as tombstones ({@code true}, the default) or
   * refused by the deserializer ({@code false}: for topics that are not compacted, where a null
   * value means nothing and would fail later, far from its cause).
   */
  public AvroSerde<T> withTombstones(boolean allowed) {
    return allowed == tombstones ? this : new AvroSerde<>(type, schema, olderSchemas, allowed);
  }

  public Class<T> type() {
    return type;
  }

  /**
   * The single-object encoding of {@code record}, byte for byte what Avro's
   * {@code BinaryMessageEncoder} writes: through a buffered encoder into this thread's reused
   * buffer, copied once. (Avro's own encoder writes each field through an unbuffered encoder into
   * a synchronized stream and copies the result twice: a tenth of the rewards stream thread.)
   */
  public byte[] encode(T record) {
    Output out = OUTPUT.get();
    try {
      out.reset();
      out.write(header, 0, HEADER_BYTES);
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, out.encoder);
      out.encoder = encoder;
      writer.write(record, encoder);
      encoder.flush();
      byte[] bytes = out.toByteArray();
      if (out.capacity() > MAX_KEPT_BUFFER) {
        OUTPUT.remove(); // one huge record must not pin its buffer to the thread
      }
      return bytes;
    } catch (IOException | RuntimeException e) {
      out.encoder = null; // it may hold the failed record's buffered bytes
      throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  public T decode(byte[] bytes) {
    try {
      DatumReader<T> reader = readers.computeIfAbsent(writerFingerprint(bytes), this::readerFor);
      if (bytes.length == HEADER_BYTES) {
        throw new SerializationException("no body after the " + HEADER_BYTES + "-byte header");
      }
      BoundedDecoder in = new BoundedDecoder(bytes, HEADER_BYTES);
      T record = reader.read(null, in);
      if (in.remaining() > 0) {
        // Two records glued together, or garbage after one: accepting the first would hide the rest.
        throw new SerializationException(in.remaining() + " bytes left over after the Avro body");
      }
      return record;
    } catch (IOException | RuntimeException e) {
      // Corrupt input surfaces from Avro as almost any exception (EOF, limits, bad indexes), some
      // of them without a message.
      String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
      throw new SerializationException("cannot decode " + type.getSimpleName() + " from "
          + bytes.length + " bytes: " + why, e);
    }
  }

  /** A thread's encoding buffer and the encoder over it, both reused record after record. */
  private static final class Output extends java.io.ByteArrayOutputStream {
    BinaryEncoder encoder;

    Output() {
      super(4096);
    }

    int capacity() {
      return buf.length;
    }
  }

  private static final int MAX_KEPT_BUFFER = 1 << 20;
  private static final ThreadLocal<Output> OUTPUT = ThreadLocal.withInitial(Output::new);

  private static long writerFingerprint(byte[] bytes) {
    if (bytes.length < HEADER_BYTES || bytes[0] != (byte) 0xC3 || bytes[1] != (byte) 0x01) {
      throw new BadHeaderException("not Avro single-object encoding (marker C3 01 and an 8-byte fingerprint)");
    }
    return ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  @SuppressWarnings("unchecked")
  private DatumReader<T> readerFor(long writerFingerprint) {
    Schema writer = writerFingerprint == fingerprint ? schema
        : olderSchemas == null ? null : olderSchemas.findByFingerprint(writerFingerprint);
    if (writer == null) {
      throw new MissingSchemaException("unknown writer schema fingerprint "
          + Long.toHexString(writerFingerprint) + " (expected " + Long.toHexString(fingerprint) + ")");
    }
    return (DatumReader<T>) model.createDatumReader(writer, schema);
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, record) -> record == null ? null : encode(record);
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, bytes) -> {
      if (bytes == null && !tombstones) {
        throw new SerializationException("null value (a tombstone) on " + topic
            + ", which is not compacted: a " + type.getSimpleName() + " was expected");
      }
      return bytes == null ? null : decode(bytes);
    };
  }
}
