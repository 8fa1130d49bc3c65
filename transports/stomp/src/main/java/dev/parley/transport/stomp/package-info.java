/**
 * The STOMP 1.2 transport: start with {@link dev.parley.transport.stomp.StompTransport}; the wire
 * mapping for Artemis and RabbitMQ is in {@code docs/wire.md}.
 */
package dev.parley.transport.stomp;
