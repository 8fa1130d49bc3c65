/**
 * The codec SPI: {@link dev.parley.codec.Codec} turns values into bytes for one content type,
 * {@link dev.parley.codec.Codecs} picks a codec by a message's content type.
 */
package dev.parley.codec;
