/**
 * Thrift codec for generated structs, binary and compact protocols: {@link
 * dev.parley.codec.thrift.ThriftCodec}.
 */
package dev.parley.codec.thrift;
