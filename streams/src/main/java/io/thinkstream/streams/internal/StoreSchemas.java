package io.thinkstream.streams.internal;

import io.thinkstream.schemas.AvroSerde;
import io.thinkstream.schemas.SchemaHistory;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificRecord;

/**
 * Serdes of the rewards application's own records (state stores, changelogs, repartition topics):
 * like the public topics, they resolve every released version kept under
 * {@code io/thinkstream/streams/history/}, so a store written before a schema change restores and
 * reads after it. Changing a streams {@code .avsc} means adding its new version there.
 */
public final class StoreSchemas {
  static final String DIR = "/io/thinkstream/streams/history/";
  private static final SchemaStore STORE = SchemaHistory.with(StoreSchemas.class, DIR);

  private StoreSchemas() {}

  public static <T extends SpecificRecord> AvroSerde<T> serde(Class<T> type) {
    return AvroSerde.of(type, STORE);
  }

  /** The released versions of the streams module's schemas, in index order. */
  public static List<Schema> released() {
    return SchemaHistory.load(StoreSchemas.class, DIR);
  }
}
