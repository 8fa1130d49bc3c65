package dev.parley.transport.spi;

import java.util.concurrent.CompletionStage;

/**
 * Receives deliveries from a transport. The transport acknowledges the delivery when the returned
 * stage completes normally and releases it for redelivery when it completes exceptionally.
 */
@FunctionalInterface
public interface DeliveryHandler {

  CompletionStage<Void> onDelivery(Delivery delivery);
}
