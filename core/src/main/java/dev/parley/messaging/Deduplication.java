package dev.parley.messaging;

import dev.parley.message.Message;

/**
 * What a subscription's {@code dedup} step asks before handling a delivery: whether its group has
 * already handled this message (an idempotent consumer's inbox, e.g. {@code
 * dev.parley.jdbc.Inbox}). Set with {@link SubscriptionOptions#withInbox}; asked once per delivery,
 * before the retries, so a redelivered duplicate is acknowledged without running the handler or its
 * retry tiers.
 *
 * <p>The check is a shortcut, not the guarantee: the handler's own transaction records the message
 * (the inbox's handler), so a check that fails (the database is briefly unreachable) lets the
 * delivery go on to the handler, where the record decides. It may block: it runs on the handler
 * pool, so a subscription with an inbox needs a blocking handler.
 */
@FunctionalInterface
public interface Deduplication {

  /**
   * @return whether {@code group} has already handled {@code message}
   * @throws dev.parley.error.BadInputException when the message reuses a handled message's id with
   *     another payload (it is then dead-lettered)
   */
  boolean isDuplicate(String group, Message message) throws Exception;
}
