package dev.parley.transport.spi;

import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Takes the deliveries of a subscription. A transport calls {@link #onDelivery} on its own dispatch
 * thread, in the order the broker delivered, and may call it again before earlier deliveries are
 * settled: up to {@link ConsumerSettings#prefetch()} deliveries per consumer may be outstanding at
 * once. The handler must return without blocking and settle every delivery exactly once, later and
 * from any thread, through its {@link Settlement}.
 */
@FunctionalInterface
public interface DeliveryHandler {

  void onDelivery(Delivery delivery, Settlement settlement);

  /**
   * A handler that settles each delivery when the stage {@code process} returns for it completes:
   * {@link Settlement#ack()} when it completes normally, {@link Settlement#requeue()} when it fails
   * or {@code process} throws. {@code process} runs on the transport's dispatch thread and must not
   * block.
   */
  static DeliveryHandler settling(Function<Delivery, ? extends CompletionStage<?>> process) {
    return (delivery, settlement) -> {
      CompletionStage<?> stage;
      try {
        stage = process.apply(delivery);
      } catch (RuntimeException | Error e) {
        settlement.requeue();
        return;
      }
      stage.whenComplete(
          (result, failure) -> {
            if (failure == null) {
              settlement.ack();
            } else {
              settlement.requeue();
            }
          });
    };
  }
}
