/** For codec implementers: {@link dev.parley.codec.spi.CodecProvider} for discovery. */
package dev.parley.codec.spi;
