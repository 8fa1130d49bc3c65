/**
 * The RabbitMQ (AMQP 0-9-1) transport: start with {@link
 * dev.parley.transport.rabbitmq.RabbitTransport}; the wire mapping is in {@code docs/wire.md}.
 */
package dev.parley.transport.rabbitmq;
