/**
 * The AMQP 1.0 transport: start with {@link dev.parley.transport.amqp.AmqpTransport}; the wire
 * mapping is in {@code docs/wire.md}.
 */
package dev.parley.transport.amqp;
