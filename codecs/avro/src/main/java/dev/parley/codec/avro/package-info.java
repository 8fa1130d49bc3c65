/**
 * Avro codec with writer schemas identified by fingerprint ({@link
 * dev.parley.codec.avro.AvroCodec}, {@link dev.parley.codec.avro.AvroSchemaStore}) and a
 * compatibility check ({@link dev.parley.codec.avro.AvroCompatibility}).
 */
package dev.parley.codec.avro;
