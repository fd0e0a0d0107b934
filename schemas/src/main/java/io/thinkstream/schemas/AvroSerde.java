package io.thinkstream.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
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
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
  private final Class<T> type;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;

  private AvroSerde(Class<T> type, Schema schema, SchemaStore olderSchemas) {
    this.type = type;
    SpecificData model = SpecificData.getForClass(type);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.decoder = new BinaryMessageDecoder<>(model, schema, olderSchemas);
  }

  /** A serde for a generated class, reading and writing its current schema. */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    return of(type, null);
  }

  /** A serde that can also read records written with the schemas that {@code olderSchemas} resolves. */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type, SchemaStore olderSchemas) {
    Objects.requireNonNull(type, "type");
    return new AvroSerde<>(type, SpecificData.get().getSchema(type), olderSchemas);
  }

  public Class<T> type() {
    return type;
  }

  public byte[] encode(T record) {
    try {
      ByteBuffer buffer = encoder.encode(record);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException | AvroRuntimeException | NullPointerException | ClassCastException e) {
      throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  public T decode(byte[] bytes) {
    try {
      return decoder.decode(bytes);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException e) {
      throw new SerializationException("cannot decode " + type.getSimpleName() + " from "
          + bytes.length + " bytes: " + e.getMessage(), e);
    }
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, record) -> record == null ? null : encode(record);
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, bytes) -> bytes == null ? null : decode(bytes);
  }
}
