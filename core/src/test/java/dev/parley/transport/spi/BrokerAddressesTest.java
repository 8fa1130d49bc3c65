package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.transport.spi.BrokerAddresses.HostAndPort;
import java.net.URI;
import org.junit.jupiter.api.Test;

class BrokerAddressesTest {

  @Test
  void addressesAreReadAsHostAndPortWithNoneWhenNoPortIsGiven() {
    assertThat(
            BrokerAddresses.parse(
                "node-1:5673", " node-2 ", "[::1]:5674", "[fe80::1]", "10.0.0.3:1"))
        .containsExactly(
            new HostAndPort("node-1", 5673),
            new HostAndPort("node-2", -1),
            new HostAndPort("[::1]", 5674),
            new HostAndPort("[fe80::1]", -1),
            new HostAndPort("10.0.0.3", 1));
    assertThat(new HostAndPort("node-2", -1).portOr(61613)).isEqualTo(61613);
    assertThat(new HostAndPort("node-1", 5673).portOr(61613)).isEqualTo(5673);
    assertThat(new HostAndPort("[::1]", 5674)).hasToString("[::1]:5674");
  }

  @Test
  void whatIsNotHostAndPortIsRefusedNamingIt() {
    assertThatThrownBy(BrokerAddresses::parse)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one");
    for (String bad :
        new String[] {
          "node-1:port",
          "node-1:0",
          "node-1:70000",
          ":5672",
          "",
          "  ",
          "::1",
          "[::1",
          "[]:5672",
          "[::1]5672",
          "node 1:5672",
          "node-1:",
          "node/1"
        }) {
      assertThatThrownBy(() -> BrokerAddresses.parse("node-2:5672", bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "'");
    }
  }

  @Test
  void aUriNamingSeveralHostsIsSplitKeepingItsUserPathAndQuery() {
    BrokerAddresses.Split split =
        BrokerAddresses.split(
                URI.create("stomp://app:s%40cret@node-1:61613,node-2,10.0.0.3:61615/orders?x=1"))
            .orElseThrow();

    assertThat(split.hosts())
        .containsExactly(
            new HostAndPort("node-1", 61613),
            new HostAndPort("node-2", -1),
            new HostAndPort("10.0.0.3", 61615));
    assertThat(split.firstHost())
        .isEqualTo(URI.create("stomp://app:s%40cret@node-1:61613/orders?x=1"));
    assertThat(split.firstHost().getHost()).isEqualTo("node-1");
  }

  /** java.net.URI takes no brackets in an authority of several hosts: IPv6 goes in addresses. */
  @Test
  void aUriWithOneHostIsNotSplit() {
    assertThat(BrokerAddresses.split(URI.create("amqp://guest:guest@localhost:5672/"))).isEmpty();
    assertThat(BrokerAddresses.split(URI.create("amqp://localhost"))).isEmpty();
    assertThatThrownBy(() -> BrokerAddresses.split(URI.create("amqp://node-1,,node-3/")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("''");
  }

  @Test
  void theNodesAreTheAddressesOrElseTheUrisHostEachWithAPort() {
    URI uri = URI.create("stomp://guest:guest@broker:61620/");
    assertThat(BrokerAddresses.nodes(uri, java.util.List.of(), 61613))
        .containsExactly(new HostAndPort("broker", 61620));
    assertThat(BrokerAddresses.nodes(URI.create("stomp://broker/"), java.util.List.of(), 61613))
        .containsExactly(new HostAndPort("broker", 61613));
    assertThat(BrokerAddresses.nodes(uri, BrokerAddresses.parse("a", "b:1"), 61613))
        .containsExactly(new HostAndPort("a", 61613), new HostAndPort("b", 1));
  }
}
