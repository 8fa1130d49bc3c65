package dev.parley.messaging;

import dev.parley.message.Message;
import java.time.Instant;
import java.util.Optional;

/** What a handler knows about the message it is handling besides the payload. */
public interface MessageContext {

  /** The message as received, headers included. */
  Message message();

  /** The 1-based handling attempt, counted across immediate retries and delayed redeliveries. */
  int attempt();

  /** The message's deadline, if it has one. */
  Optional<Instant> deadline();

  /** The partition key, if the message has one. */
  Optional<String> partitionKey();

  /**
   * The subscriber group handling the message (for a command channel: the channel's name); what an
   * inbox keys its records by. Empty where no subscription is involved.
   */
  default String group() {
    return "";
  }
}
