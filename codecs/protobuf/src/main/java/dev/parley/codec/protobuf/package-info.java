/**
 * Protocol Buffers codecs: binary ({@link dev.parley.codec.protobuf.ProtobufCodec}), the canonical
 * JSON mapping ({@link dev.parley.codec.protobuf.ProtobufJsonCodec}), and a schema compatibility
 * check ({@link dev.parley.codec.protobuf.ProtobufCompatibility}).
 */
package dev.parley.codec.protobuf;
