package dev.parley.transport.spi;

import dev.parley.error.BadInputException;
import dev.parley.internal.Payloads;
import dev.parley.message.HeaderLimits;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One delivery of a message to a consumer.
 *
 * <p>A transport builds a delivery from what it read off the wire with {@link #fromWire}: a message
 * whose headers break the documented limits ({@link HeaderLimits}) still becomes a delivery, marked
 * {@link #unreadable()}, whose {@link #message()} keeps the payload and every header that was
 * acceptable. The consumer pipeline dead-letters it once; a transport never fails, releases or
 * loops on a message because it could not convert it.
 *
 * @param message the message (for an unreadable delivery: what could be kept of it)
 * @param source the destination it was consumed from
 * @param deliveryCount how many times the broker has delivered it, 1 on the first delivery
 * @param unreadable why the message as sent cannot be read, or null when it can
 */
public record Delivery(
    Message message, Destination source, int deliveryCount, BadInputException unreadable) {

  /** A readable delivery. */
  public Delivery(Message message, Destination source, int deliveryCount) {
    this(message, source, deliveryCount, null);
  }

  /**
   * The delivery of a message read off the wire: its headers as the transport found them (the
   * native message id mapped to {@link Headers#ID} where the message had no {@code parley-id}) and
   * its payload. Never throws for what a sender put in the message.
   *
   * @param headers header names and values as received, handed over: a {@link LinkedHashMap} (a
   *     fresh one per message) becomes the message's own, so the transport does not touch it
   *     afterwards; any other map is copied. Null names or values count as malformed
   * @param payload the payload as received, handed over: the message holds this array, so the
   *     transport never writes to it afterwards (a fresh array per message, not a reused buffer)
   */
  public static Delivery fromWire(
      Map<String, String> headers, byte[] payload, Destination source, int deliveryCount) {
    return fromWire(headers, payload, source, deliveryCount, null);
  }

  /**
   * Like {@link #fromWire(Map, byte[], Destination, int)}, for a message the transport itself found
   * unreadable ({@code problem}, e.g. a frame with more headers than it keeps).
   */
  public static Delivery fromWire(
      Map<String, String> headers,
      byte[] payload,
      Destination source,
      int deliveryCount,
      BadInputException problem) {
    int count = Math.max(1, deliveryCount);
    if (problem == null) {
      try {
        // Message.build() checks the limits (HeaderLimits) once, here as for every message.
        return new Delivery(build(headers, payload), source, count);
      } catch (RuntimeException e) {
        problem = new BadInputException("parley.header.invalid", e.getMessage());
      }
    }
    return new Delivery(salvage(headers, payload), source, count, problem);
  }

  /** Whether the message could be read as sent. */
  public boolean isReadable() {
    return unreadable == null;
  }

  private static Message build(Map<String, String> headers, byte[] payload) {
    return Payloads.builder(headers, payload).build();
  }

  /**
   * Room left on a salvaged message for the headers a dead letter adds (error code and message,
   * exception class, original channel and queue, attempt, first-failure time): {@value} headers and
   * {@code 16 ×} that many characters.
   */
  private static final int DEAD_LETTER_ROOM = 16;

  /** The payload and every header that is acceptable on its own, within the limits. */
  private static Message salvage(Map<String, String> headers, byte[] payload) {
    Map<String, String> kept = new LinkedHashMap<>();
    long total = 0;
    for (Map.Entry<String, String> h : headers.entrySet()) {
      String name = h.getKey();
      String value = h.getValue();
      if (kept.size() >= HeaderLimits.MAX_HEADERS - DEAD_LETTER_ROOM
          || HeaderLimits.nameViolation(name) != null
          || HeaderLimits.valueViolation(name, value) != null) {
        continue;
      }
      total += name.length() + value.length();
      if (total > HeaderLimits.MAX_TOTAL_CHARS - DEAD_LETTER_ROOM * 1024) {
        break;
      }
      kept.put(name, value);
    }
    // A kept parley-id is a valid one; without it the dead letter gets a new id.
    return build(kept, payload);
  }
}
