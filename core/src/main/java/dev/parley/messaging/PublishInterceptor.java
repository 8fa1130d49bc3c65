package dev.parley.messaging;

import dev.parley.message.Message;
import dev.parley.transport.spi.Destination;
import java.util.concurrent.CompletionStage;

/**
 * Wraps every message a {@link Messaging} sends — publish, send, request, forward, replies and dead
 * letters excepted — in the order added to the {@link MessagingBuilder#publishInterceptor builder},
 * before the publish policy and the transport: {@code interceptors → policy → transport} ({@link
 * Messaging#describe()}). An interceptor may pass on a changed message (e.g. with a trace header
 * added). It runs on the sender's thread and must not block.
 */
@FunctionalInterface
public interface PublishInterceptor {

  /**
   * @return completes when the broker has accepted the message (what {@code next.proceed} returns,
   *     or a failure)
   */
  CompletionStage<Void> intercept(Destination destination, Message message, Next next);

  /** The name {@link Messaging#describe()} shows; the class's simple name by default. */
  default String name() {
    String simple = getClass().getSimpleName();
    return simple.isEmpty() || simple.contains("$$Lambda") ? "interceptor" : simple;
  }

  /** The rest of the publish chain. */
  @FunctionalInterface
  interface Next {
    CompletionStage<Void> proceed(Message message);
  }
}
