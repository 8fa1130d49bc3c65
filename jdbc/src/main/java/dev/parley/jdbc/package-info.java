/**
 * Exactly-once effects over at-least-once delivery, on JDBC: the transactional {@link
 * dev.parley.jdbc.Outbox} (a publish inside the caller's transaction, sent later by a relay) and
 * the idempotent {@link dev.parley.jdbc.Inbox} (a handler whose transaction records the message id,
 * so a redelivered duplicate is skipped). PostgreSQL in production, H2 as the embedded default; the
 * tables are in {@link dev.parley.jdbc.Schema}.
 */
package dev.parley.jdbc;
