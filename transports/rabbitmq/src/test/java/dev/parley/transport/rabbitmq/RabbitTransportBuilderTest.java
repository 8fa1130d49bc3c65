package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Address;
import java.net.URI;
import org.junit.jupiter.api.Test;

class RabbitTransportBuilderTest {

  private static RabbitTransport.Builder builder() {
    return RabbitTransport.builder(URI.create("amqp://guest:guest@127.0.0.1:5672/orders"));
  }

  @Test
  void addressesAreReadAsHostAndPortWithTheSchemesPortWhenNoneIsGiven() {
    RabbitTransport.Builder b =
        builder().addresses("rabbit-1:5673", " rabbit-2 ", "[::1]:5674", "10.0.0.3:5675");

    assertThat(b.addresses)
        .containsExactly(
            new Address("rabbit-1", 5673),
            new Address("rabbit-2", -1),
            new Address("[::1]", 5674),
            new Address("10.0.0.3", 5675));
  }

  @Test
  void aUriMayNameTheClustersNodesSeparatedByCommas() {
    RabbitTransport.Builder b =
        RabbitTransport.builder(
            URI.create("rabbitmq://app:s3cret@rabbit-1:5673,rabbit-2,rabbit-3:5675/orders"));

    assertThat(b.addresses)
        .containsExactly(
            new Address("rabbit-1", 5673),
            new Address("rabbit-2", -1),
            new Address("rabbit-3", 5675));
    // the user, password and vhost stay; the first node stands for the host
    assertThat(b.brokerUri).isEqualTo(URI.create("amqp://app:s3cret@rabbit-1:5673/orders"));
    assertThatThrownBy(() -> RabbitTransport.builder(URI.create("amqp://rabbit-1,,rabbit-3/")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("''");
  }

  @Test
  void aTlsContextForAPlainUriIsRefused() throws Exception {
    javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getDefault();
    assertThatThrownBy(() -> builder().sslContext(tls).startupConnectAttempts(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("amqps://");
  }

  @Test
  void withoutAddressesTheUrisHostAloneIsUsed() {
    assertThat(builder().addresses).isEmpty();
  }

  @Test
  void anAddressThatIsNotHostAndPortIsRefusedWhenConfigured() {
    assertThatThrownBy(() -> builder().addresses())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one");
    for (String bad : new String[] {"rabbit-1:port", "rabbit-1:0", "rabbit-1:70000", ":5672"}) {
      assertThatThrownBy(() -> builder().addresses("rabbit-2:5672", bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "'");
    }
  }
}
