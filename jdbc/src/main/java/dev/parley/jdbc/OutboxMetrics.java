package dev.parley.jdbc;

import java.time.Duration;

/**
 * The relay's counters and the outbox's backlog.
 *
 * @param sent rows sent and marked sent by this instance
 * @param sendFailures sends the broker refused or did not confirm in time (the rows stay and are
 *     sent again)
 * @param backlog rows not sent yet
 * @param lag age of the oldest row not sent yet (zero when there is none)
 * @param leaseHeld whether this instance holds the relay lease now
 */
public record OutboxMetrics(
    long sent, long sendFailures, long backlog, Duration lag, boolean leaseHeld) {}
