/**
 * The asynchronous interaction styles: start at {@link dev.parley.messaging.Messaging}, describe
 * destinations with {@link dev.parley.messaging.Channel}, and tune consumers with {@link
 * dev.parley.messaging.SubscriptionOptions} and {@link dev.parley.messaging.Redelivery}.
 */
package dev.parley.messaging;
