package dev.parley.codec.avro;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Where a reader finds the writer schema a payload names by its fingerprint (CRC-64-AVRO of the
 * schema's parsing canonical form, as Avro's single-object encoding defines). Implement it over a
 * schema registry; {@link #inMemory(Schema...)} is the built-in default. Implementations are
 * thread-safe.
 */
public interface AvroSchemaStore {

  /** The schema with this fingerprint, if known. */
  Optional<Schema> find(long fingerprint);

  /** Makes a schema known; idempotent. */
  void register(Schema schema);

  /** The fingerprint Avro's single-object encoding uses for {@code schema}. */
  static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  /** A store in memory, starting with {@code known} schemas. */
  static AvroSchemaStore inMemory(Schema... known) {
    Map<Long, Schema> schemas = new ConcurrentHashMap<>();
    AvroSchemaStore store =
        new AvroSchemaStore() {
          @Override
          public Optional<Schema> find(long fingerprint) {
            return Optional.ofNullable(schemas.get(fingerprint));
          }

          @Override
          public void register(Schema schema) {
            schemas.putIfAbsent(fingerprint(schema), schema);
          }
        };
    for (Schema s : known) {
      store.register(s);
    }
    return store;
  }
}
