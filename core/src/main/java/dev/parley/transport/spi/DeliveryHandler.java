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
   * A message of this subscription that the transport dead-lettered itself instead of handing it
   * over, and has settled already: one larger than the transport reads, moved whole to the
   * subscription's dead-letter queue (RabbitMQ rejects it there, STOMP copies it there). {@code
   * delivery} holds the message's headers without its payload; {@link Delivery#unreadable()} says
   * why ({@link DeadLetters#TOO_LARGE}). The engine runs it through the subscription's interceptors
   * (it ends there dead-lettered, without reaching the handler), counts it as received and
   * dead-lettered, and answers a request's caller with the failure, as for any dead letter of its
   * own. Called on the transport's dispatch thread, at most once per message delivered; must not
   * block. Ignored by default.
   */
  default void onDeadLettered(Delivery delivery) {}

  /**
   * A message of this subscription that the transport dropped without handing it over: a reply
   * larger than the transport reads (a reply subscription takes its messages without
   * acknowledgements, so there is nothing to settle, and has no dead-letter queue). {@code
   * delivery} holds the message's headers without its payload; {@link Delivery#unreadable()} says
   * why. The engine fails the call the reply answers at once, rather than at its deadline. Called
   * on the transport's dispatch thread; must not block. Ignored by default.
   */
  default void onDropped(Delivery delivery) {}

  /**
   * Tells {@code handler} of a message the transport did not hand over because it is larger than
   * the transport reads: {@link #onDropped} when {@code dropped} (a reply), else {@link
   * #onDeadLettered}. {@code read} holds the message's headers without its payload; the delivery
   * the handler gets is unreadable with {@link DeadLetters#TOO_LARGE} and {@code why}, followed by
   * what became of the message.
   */
  static void tellTooLarge(DeliveryHandler handler, Delivery read, String why, boolean dropped) {
    Delivery tooLarge =
        new Delivery(
            read.message(),
            read.source(),
            read.deliveryCount(),
            new dev.parley.error.BadInputException(
                DeadLetters.TOO_LARGE,
                why + (dropped ? ": dropped" : ": dead-lettered, not handled")));
    if (dropped) {
      handler.onDropped(tooLarge);
    } else {
      handler.onDeadLettered(tooLarge);
    }
  }

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
