/**
 * The message model: {@link dev.parley.message.Message}, its {@link dev.parley.message.Headers}
 * (the wire contract) and {@link dev.parley.message.MessageIds}. Start with {@code Message}.
 */
package dev.parley.message;
