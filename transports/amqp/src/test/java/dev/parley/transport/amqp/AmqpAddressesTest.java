package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AmqpAddressesTest {

  @Test
  void onlyAVersionOneUuidInCanonicalFormIsATemporaryQueueName() {
    assertThat(AmqpAddresses.isTemporaryQueueName("8d8bf312-f121-11f1-9aac-02fc00000001")).isTrue();

    assertThat(AmqpAddresses.isTemporaryQueueName("8D8BF312-F121-11F1-9AAC-02FC00000001"))
        .isFalse(); // not as Artemis writes it
    assertThat(AmqpAddresses.isTemporaryQueueName("01a20000-0000-7000-8000-000000000005"))
        .isFalse(); // version 7: Parley's ids
    assertThat(AmqpAddresses.isTemporaryQueueName("8d8bf312-f121-11f1-9aac-02fc0000000")).isFalse();
    assertThat(AmqpAddresses.isTemporaryQueueName("8d8bf312xf121-11f1-9aac-02fc00000001"))
        .isFalse();
    assertThat(AmqpAddresses.isTemporaryQueueName("8d8bf312-f121-11f1-9aac-02fc0000000g"))
        .isFalse();
    assertThat(AmqpAddresses.isTemporaryQueueName("kitchen.commands")).isFalse();
    assertThat(AmqpAddresses.isTemporaryQueueName("parley.reply.orders.8d8bf312-f121-11f1-9aac"))
        .isFalse();
  }
}
