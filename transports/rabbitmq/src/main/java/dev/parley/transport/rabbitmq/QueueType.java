package dev.parley.transport.rabbitmq;

/** The kind of RabbitMQ queue Parley declares for groups, commands and dead letters. */
public enum QueueType {
  /** Replicated, durable, with a delivery limit (RabbitMQ's recommended default). */
  QUORUM,
  /** Classic durable queues, for single-node brokers or RabbitMQ before 3.8. */
  CLASSIC
}
