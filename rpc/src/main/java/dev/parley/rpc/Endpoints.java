package dev.parley.rpc;

import com.linecorp.armeria.client.Endpoint;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.client.endpoint.dns.DnsAddressEndpointGroup;
import com.linecorp.armeria.client.endpoint.dns.DnsServiceEndpointGroup;
import com.linecorp.armeria.client.endpoint.healthcheck.HealthCheckedEndpointGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Where an {@link RpcClient} finds servers — static lists, DNS A/AAAA and SRV records; the
 * ZooKeeper registry is {@link dev.parley.rpc.discovery.ZooKeeperDiscovery#endpoints(String)} — and
 * {@link #healthChecked health checking} on top of any of them. Each is an Armeria endpoint group:
 * calls are balanced over its endpoints (weighted round robin), and a group may change as instances
 * come and go. Close dynamic groups when done.
 */
public final class Endpoints {

  private Endpoints() {}

  /** A fixed list of {@code host:port} endpoints. */
  public static EndpointGroup of(String... hostPorts) {
    if (hostPorts.length == 0) {
      throw new IllegalArgumentException("hostPorts: none (expected: at least one host:port)");
    }
    List<Endpoint> endpoints = Arrays.stream(hostPorts).map(Endpoint::parse).toList();
    return EndpointGroup.of(endpoints);
  }

  /**
   * The addresses DNS gives for {@code hostname} (A and AAAA records, and the hosts file), each on
   * {@code port}, refreshed as the records' TTLs expire.
   */
  public static EndpointGroup dns(String hostname, int port) {
    return DnsAddressEndpointGroup.builder(hostname).port(port).build();
  }

  /** As {@link #dns(String, int)}, asking the given DNS servers. */
  public static EndpointGroup dns(String hostname, int port, InetSocketAddress... dnsServers) {
    return DnsAddressEndpointGroup.builder(hostname).port(port).serverAddresses(dnsServers).build();
  }

  /** The targets of DNS SRV records for {@code name}, e.g. {@code _grpc._tcp.kitchen.example}. */
  public static EndpointGroup dnsSrv(String name) {
    return DnsServiceEndpointGroup.of(name);
  }

  /** As {@link #dnsSrv(String)}, asking the given DNS servers. */
  public static EndpointGroup dnsSrv(String name, InetSocketAddress... dnsServers) {
    return DnsServiceEndpointGroup.builder(name).serverAddresses(dnsServers).build();
  }

  /**
   * Only the endpoints of {@code group} whose {@code /internal/health} (served by every {@link
   * RpcServer}) answers 200, probed every {@code interval}.
   */
  public static EndpointGroup healthChecked(EndpointGroup group, Duration interval) {
    return HealthCheckedEndpointGroup.builder(group, "/internal/health")
        .retryInterval(interval)
        .build();
  }
}
