package dev.parley.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChannelTest {

  record Order(String id) {}

  @Test
  void partitionKeyComesFromThePayload() {
    Channel<Order> channel = Channel.event("orders", Order.class).withPartitionKey(Order::id);

    assertThat(channel.isPartitioned()).isTrue();
    assertThat(channel.partitionKeyOf(new Order("o-1"))).isEqualTo("o-1");
    assertThat(Channel.event("orders", Order.class).isPartitioned()).isFalse();
  }

  @Test
  void messageTypeDefaultsToTheSimpleClassName() {
    assertThat(Channel.command("c", Order.class).messageType()).isEqualTo("Order");
    assertThat(Channel.command("c", Order.class).withMessageType("shop.Order").messageType())
        .isEqualTo("shop.Order");
  }

  @Test
  void rejectsNamesThatWouldBreakAddressing() {
    assertThatThrownBy(() -> Channel.event("a::b", Order.class))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Channel.event("a b", Order.class))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Channel.event("", Order.class))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void nullPartitionKeyIsRefused() {
    Channel<Order> channel = Channel.event("orders", Order.class).withPartitionKey(Order::id);

    assertThatThrownBy(() -> channel.partitionKeyOf(new Order(null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("partition key");
  }

  @Test
  void repliesByCorrelationIdAreForCommandChannelsAndSurviveTheOtherCopies() {
    Channel<Order> channel =
        Channel.command("c", Order.class)
            .withRepliesByCorrelationId()
            .withMessageType("shop.Order")
            .withPartitionKey(Order::id);

    assertThat(channel.repliesByCorrelationId()).isTrue();
    assertThat(channel.isPartitioned()).isTrue();
    assertThat(channel.messageType()).isEqualTo("shop.Order");
    assertThat(Channel.command("c", Order.class).repliesByCorrelationId()).isFalse();
    assertThatThrownBy(() -> Channel.event("e", Order.class).withRepliesByCorrelationId())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("command channel");
  }

  @Test
  void aDefaultContentTypeStandsInForAMissingOrBlankOneAndSurvivesTheOtherCopies() {
    Channel<Order> channel =
        Channel.command("c", Order.class)
            .withDefaultContentType("application/json")
            .withRepliesByCorrelationId()
            .withPartitionKey(Order::id)
            .withMessageType("shop.Order");

    assertThat(channel.defaultContentType()).isEqualTo("application/json");
    assertThat(channel.contentTypeOr(null)).isEqualTo("application/json");
    assertThat(channel.contentTypeOr(" ")).isEqualTo("application/json");
    assertThat(channel.contentTypeOr("application/xml")).isEqualTo("application/xml");
    assertThat(Channel.command("c", Order.class).contentTypeOr(null)).isNull();
    assertThatThrownBy(() -> Channel.command("c", Order.class).withDefaultContentType(" "))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
