package dev.parley.rpc.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.endpoint.EndpointGroup;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.operation.Operation;
import dev.parley.rpc.Binding;
import dev.parley.rpc.Endpoints;
import dev.parley.rpc.RpcClient;
import dev.parley.rpc.RpcServer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DNS discovery: A records and SRV records, answered by a real DNS server on loopback. */
class DnsDiscoveryIT {

  record Who(String caller) {}

  record Name(String name) {}

  static final Operation<Who, Name> WHO =
      Operation.of("greeter", "Who", Who.class, Name.class).withIdempotent(true);

  private static TestDnsServer dns;
  private static RpcServer a;
  private static RpcServer b;

  @BeforeAll
  static void start() throws Exception {
    dns = new TestDnsServer();
    a = server("a");
    b = server("b");
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
    dns.close();
  }

  @Test
  void findsAnInstanceThroughARecords() throws Exception {
    dns.addA("greeter.parley.test", "127.0.0.1");
    int queriesBefore = dns.queries();

    try (EndpointGroup group = Endpoints.dns("greeter.parley.test", a.port(), dns.address());
        RpcClient client = client(group)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> !group.endpoints().isEmpty());

      assertThat(client.call(WHO, new Who("t")).name()).isEqualTo("a");
      assertThat(dns.queries()).isGreaterThan(queriesBefore);
    }
  }

  @Test
  void balancesOverTheTargetsOfSrvRecords() {
    dns.setSrv(
        "_greeter._tcp.parley.test",
        List.of(
            new TestDnsServer.Srv(10, 5, a.port(), "127.0.0.1"),
            new TestDnsServer.Srv(10, 5, b.port(), "127.0.0.1")));

    try (EndpointGroup group = Endpoints.dnsSrv("_greeter._tcp.parley.test", dns.address());
        RpcClient client = client(group)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> group.endpoints().size() == 2);
      Set<String> answered = new HashSet<>();
      for (int i = 0; i < 10; i++) {
        answered.add(client.call(WHO, new Who("t")).name());
      }

      assertThat(answered).containsExactlyInAnyOrder("a", "b");
    }
  }

  private static RpcServer server(String name) {
    return RpcServer.builder()
        .codecs(Codecs.of(JsonCodec.of()))
        .serve(WHO, (who, ctx) -> new Name(name))
        .build()
        .start();
  }

  private static RpcClient client(EndpointGroup group) {
    return RpcClient.builder()
        .binding(Binding.REST)
        .endpoints(group)
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }
}
