package io.thinkstream.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;

/**
 * Every released version of every record schema, kept in the jar under
 * {@code io/thinkstream/schemas/history/} ({@code Name-vN.avsc}, listed in {@code index.txt}).
 * The production serdes resolve a record's writer schema here by its fingerprint and read it
 * with the current schema, so a retained topic or state store written before a schema change
 * still reads after it. Changing an {@code .avsc} means adding its new version here too;
 * {@code SchemaHistoryTest} fails until it is.
 */
public final class SchemaHistory {
  private static final String DIR = "/io/thinkstream/schemas/history/";
  private static final List<Schema> ALL = load(SchemaHistory.class, DIR);
  private static final SchemaStore.Cache STORE = new SchemaStore.Cache();

  static {
    ALL.forEach(STORE::addSchema);
  }

  private SchemaHistory() {}

  /** The store the production serdes resolve writer schemas with. */
  public static SchemaStore store() {
    return STORE;
  }

  /** Every released version, in index order. */
  public static List<Schema> all() {
    return ALL;
  }

  /** Whether {@code schema}'s parsing fingerprint is a released version. */
  public static boolean contains(Schema schema) {
    return STORE.findByFingerprint(SchemaNormalization.parsingFingerprint64(schema)) != null;
  }

  /**
   * A store resolving this history and another one kept the same way ({@code index.txt} and
   * {@code Name-vN.avsc} files under resource directory {@code dir} beside {@code owner}): how a
   * module with schemas of its own (the streams module's state stores) evolves them too.
   */
  public static SchemaStore with(Class<?> owner, String dir) {
    SchemaStore.Cache store = new SchemaStore.Cache();
    ALL.forEach(store::addSchema);
    load(owner, dir).forEach(store::addSchema);
    return store;
  }

  /** The released versions under {@code dir} beside {@code owner}, in index order. */
  public static List<Schema> load(Class<?> owner, String dir) {
    List<Schema> out = new ArrayList<>();
    for (String name : read(owner, dir, "index.txt").split("\\R")) {
      if (!name.isBlank()) {
        // a parser per file: versions of one schema define the same names
        out.add(new Schema.Parser().parse(read(owner, dir, name.strip())));
      }
    }
    return Collections.unmodifiableList(out);
  }

  private static String read(Class<?> owner, String dir, String name) {
    try (InputStream in = owner.getResourceAsStream(dir + name)) {
      if (in == null) {
        throw new IllegalStateException("schema history resource missing from the jar: " + dir + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir + name, e);
    }
  }
}
