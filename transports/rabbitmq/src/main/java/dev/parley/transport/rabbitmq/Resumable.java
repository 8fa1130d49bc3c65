package dev.parley.transport.rabbitmq;

/**
 * A consumer the transport starts again itself when its connection's recovery could not restore it
 * (amqp-client logs such a failure and goes on without the consumer), or when its channel is found
 * closed while the connection is up ({@link AmqpClientTransport}'s consumer watch).
 */
interface Resumable {

  /**
   * Consumes again on a new channel; returns whether it does (or was stopped meanwhile). On false
   * the transport tries again after its recovery interval. Runs on the transport's timer.
   */
  boolean resume();

  /**
   * Whether its channel is open and its consumer not cancelled by RabbitMQ (or it was stopped):
   * false for a consumer whose channel RabbitMQ closed with a channel error (amqp-client recovers
   * channels only with their connection), one the connection's recovery left behind, or one whose
   * queue was deleted under it.
   */
  boolean isConsuming();

  /** What the log calls it (its queue). */
  String describe();
}
