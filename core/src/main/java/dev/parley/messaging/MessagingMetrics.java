package dev.parley.messaging;

/**
 * A snapshot of one {@link Messaging} instance's counters since it was built.
 *
 * @param sent messages the broker accepted (events, commands, requests, replies)
 * @param received deliveries handed to the pipeline
 * @param handled deliveries whose handler succeeded
 * @param retried immediate retries
 * @param redelivered delayed redeliveries scheduled through the broker
 * @param deadLettered messages sent to a dead-letter channel
 * @param expired deliveries dropped unprocessed because their deadline had passed
 * @param lateReplies replies that arrived after their request's deadline (dropped)
 * @param forgedReplies replies dropped because they lacked their request's reply token ({@link
 *     dev.parley.message.Headers#REPLY_TOKEN}): not sent by whoever received the request
 * @param duplicates deliveries an inbox ({@link SubscriptionOptions#withInbox}) found handled
 *     already, acknowledged without running the handler
 * @param pendingRequests requests waiting for their reply right now
 */
public record MessagingMetrics(
    long sent,
    long received,
    long handled,
    long retried,
    long redelivered,
    long deadLettered,
    long expired,
    long lateReplies,
    long forgedReplies,
    long duplicates,
    int pendingRequests) {}
