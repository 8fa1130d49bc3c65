package dev.parley.transport.spi;

import dev.parley.internal.Payloads;
import dev.parley.message.Headers;
import dev.parley.message.Message;

/**
 * The dead letter of a message: what the consumer pipeline sends to a dead-letter queue, and what a
 * transport sends there itself for a message it could not hand to the pipeline (a STOMP message too
 * large to read, copied whole). One recipe, so that an operator finds the same error headers on
 * every dead letter (docs/wire.md section 1).
 */
public final class DeadLetters {

  /**
   * The error code of a message larger than the consuming transport reads, which the transport
   * dead-letters itself ({@link DeliveryHandler#onDeadLettered}).
   */
  public static final String TOO_LARGE = "parley.message.too_large";

  private DeadLetters() {}

  /**
   * {@code message} with the error headers added. A dead letter waits for an operator: it keeps no
   * deadline (transports map the deadline to the broker's time-to-live, which would drop it from
   * the dead-letter queue), no reply token and no credential (never kept in a queue). When the
   * error headers do not fit beside the message's own, it keeps the payload, the id and Parley's
   * error headers only. Never throws for what a sender put in the message.
   *
   * @param errorMessage the error's text, already cut to length and redacted
   * @param nowMillis the first failure's time when the message carries none
   */
  public static Message of(
      Message message,
      String errorCode,
      String errorMessage,
      String exceptionClass,
      String channel,
      String originalQueue,
      int attempt,
      long nowMillis) {
    try {
      return message.toBuilder()
          .removeHeader(Headers.REPLY_TOKEN)
          .removeHeader(Headers.AUTHORIZATION)
          .removeHeader(Headers.DEADLINE)
          .header(Headers.ERROR_CODE, errorCode)
          .header(Headers.ERROR_MESSAGE, errorMessage)
          .header(Headers.EXCEPTION_CLASS, exceptionClass)
          .header(Headers.ORIGINAL_CHANNEL, channel)
          .header(Headers.ORIGINAL_QUEUE, originalQueue)
          .header(Headers.ATTEMPT, Integer.toString(attempt))
          .header(
              Headers.FIRST_FAILURE_TIME,
              message.header(Headers.FIRST_FAILURE_TIME).orElse(Long.toString(nowMillis)))
          .build();
    } catch (RuntimeException e) {
      return Payloads.builder(Payloads.shared(message))
          .id(message.id())
          .header(Headers.ERROR_CODE, errorCode)
          .header(Headers.ERROR_MESSAGE, errorMessage)
          .header(Headers.ORIGINAL_CHANNEL, channel)
          .header(Headers.ORIGINAL_QUEUE, originalQueue)
          .header(Headers.ATTEMPT, Integer.toString(attempt))
          .build();
    }
  }
}
