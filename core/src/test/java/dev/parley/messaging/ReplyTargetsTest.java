package dev.parley.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.message.Message;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportSubscription;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ReplyTargetsTest {

  /** A transport whose only native reply address is {@code native.reply}; nothing else is used. */
  private static final Transport TRANSPORT =
      new Transport() {
        @Override
        public String name() {
          return "test";
        }

        @Override
        public CompletableFuture<Void> send(
            Destination destination, Message message, SendOptions options) {
          throw new UnsupportedOperationException();
        }

        @Override
        public TransportSubscription subscribe(
            Destination source, ConsumerSettings settings, DeliveryHandler handler) {
          throw new UnsupportedOperationException();
        }

        @Override
        public boolean isNativeReplyAddress(String queue) {
          return queue.equals("native.reply");
        }

        @Override
        public void close() {}
      };

  @Test
  void parleyReplyQueuesAndTheTransportsOwnAreAllowedByDefault() {
    ReplyTargets targets = ReplyTargets.defaults(TRANSPORT);

    assertThat(targets.allows("parley.reply.orders.0190")).isTrue();
    assertThat(targets.allows("native.reply")).isTrue();
    assertThat(targets.allows("kitchen.commands")).isFalse();
    assertThat(targets.allows("kitchen.commands.dlq")).isFalse();
    assertThat(targets.allows("parley.reply")).as("the prefix needs its dot").isFalse();
    assertThat(targets.allows("xparley.reply.a")).isFalse();
  }

  @Test
  void patternsMatchWholeNamesWithStarForAnyCharacters() {
    ReplyTargets targets =
        new ReplyTargets(TRANSPORT, List.of("billing.replies.*", "*.callbacks", "exact.q"));

    assertThat(targets.allows("billing.replies.")).isTrue();
    assertThat(targets.allows("billing.replies.7")).isTrue();
    assertThat(targets.allows("a.b.callbacks")).isTrue();
    assertThat(targets.allows("exact.q")).isTrue();
    assertThat(targets.allows("exact.q2")).isFalse();
    assertThat(targets.allows("billingXreplies.7")).as("dots are literal").isFalse();
    assertThat(targets.allows("billing.commands")).isFalse();
    assertThat(targets.describe())
        .isEqualTo("parley.reply.*, billing.replies.*, *.callbacks, exact.q");
  }

  @Test
  void starsBetweenPartsMatchInOrderWithoutOverlapping() {
    ReplyTargets targets = new ReplyTargets(TRANSPORT, List.of("a.*.b.*.c", "ab*ba", "*"));
    ReplyTargets strict = new ReplyTargets(TRANSPORT, List.of("a.*.b.*.c", "ab*ba"));

    assertThat(strict.allows("a.x.b.y.c")).isTrue();
    assertThat(strict.allows("a..b..c")).isTrue();
    assertThat(strict.allows("a.x.c.y.b")).as("parts in order").isFalse();
    assertThat(strict.allows("abba")).isTrue();
    assertThat(strict.allows("aba")).as("prefix and suffix may not overlap").isFalse();
    assertThat(strict.allows("a.b.c")).isFalse();
    assertThat(targets.allows("anything.at.all")).as("'*' alone allows every name").isTrue();
  }

  @Test
  void aBlankPatternIsRefusedWhenConfigured() {
    assertThatThrownBy(() -> Messaging.builder().allowReplyTo(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reply-to pattern");
  }
}
