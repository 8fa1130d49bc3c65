package dev.parley.transport.spi;

import dev.parley.message.Message;

/**
 * One delivery of a message to a consumer.
 *
 * @param message the message
 * @param source the destination it was consumed from
 * @param deliveryCount how many times the broker has delivered it, 1 on the first delivery
 */
public record Delivery(Message message, Destination source, int deliveryCount) {}
