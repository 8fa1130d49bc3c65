package dev.parley.transport.rabbitmq;

/**
 * A consumer the transport starts again itself when its connection's recovery could not restore it
 * (amqp-client logs such a failure and goes on without the consumer).
 */
interface Resumable {

  /**
   * Consumes again on a new channel; returns whether it does (or was stopped meanwhile). On false
   * the transport tries again after its recovery interval. Runs on the transport's timer.
   */
  boolean resume();

  /** What the log calls it (its queue). */
  String describe();
}
