package dev.parley.rpc.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.endpoint.EndpointGroup;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.ParleyException;
import dev.parley.operation.Operation;
import dev.parley.policy.Policy;
import dev.parley.rpc.Binding;
import dev.parley.rpc.Endpoints;
import dev.parley.rpc.RpcClient;
import dev.parley.rpc.RpcServer;
import dev.parley.testing.kit.FaultProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two instances register in an in-process ZooKeeper; a client balances across them through the
 * registry and Armeria's health checks; one instance is killed (its server stops and its ZooKeeper
 * connection is cut, no goodbye) and calls carry on with the other; ZooKeeper then drops the dead
 * one when its session expires.
 */
class ZooKeeperDiscoveryIT {

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private TestingServer zookeeper;

  @BeforeEach
  void startZooKeeper() throws Exception {
    zookeeper = new TestingServer(true);
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    zookeeper.close();
  }

  record Who(String caller) {}

  record Name(String name) {}

  static final Operation<Who, Name> WHO =
      Operation.of("greeter", "Who", Who.class, Name.class).withIdempotent(true);

  private RpcServer instance(String name) {
    RpcServer server =
        RpcServer.builder()
            .codecs(Codecs.of(JsonCodec.of()))
            .serve(WHO, (who, ctx) -> new Name(name))
            .build()
            .start();
    closeables.add(server);
    return server;
  }

  private ZooKeeperDiscovery discovery(String connectString) {
    ZooKeeperDiscovery d =
        ZooKeeperDiscovery.builder(connectString).sessionTimeout(Duration.ofSeconds(2)).build();
    closeables.add(d);
    return d;
  }

  @Test
  void clientsBalanceOverRegisteredInstancesAndCarryOnWhenOneIsKilled() {
    RpcServer a = instance("a");
    RpcServer b = instance("b");
    discovery(zookeeper.getConnectString()).register("greeter", "127.0.0.1", a.port());
    // Instance b reaches ZooKeeper through a proxy, so that it can die without a goodbye.
    FaultProxy bToZooKeeper = FaultProxy.to("127.0.0.1", zookeeper.getPort());
    closeables.add(bToZooKeeper);
    discovery("127.0.0.1:" + bToZooKeeper.port()).register("greeter", "127.0.0.1", b.port());

    ZooKeeperEndpointGroup registered =
        discovery(zookeeper.getConnectString()).endpoints("greeter");
    closeables.add(registered);
    EndpointGroup healthy = Endpoints.healthChecked(registered, Duration.ofMillis(300));
    closeables.add(healthy);
    RpcClient rest = client(Binding.REST, healthy);
    RpcClient grpc = client(Binding.GRPC, healthy);

    await().atMost(Duration.ofSeconds(30)).until(() -> healthy.endpoints().size() == 2);
    Set<String> overRest = new HashSet<>();
    Set<String> overGrpc = new HashSet<>();
    // one group, one round robin: interleaving the two clients would give each one instance
    for (int i = 0; i < 20; i++) {
      overRest.add(rest.call(WHO, new Who("t")).name());
    }
    for (int i = 0; i < 20; i++) {
      overGrpc.add(grpc.call(WHO, new Who("t")).name());
    }
    assertThat(overRest).containsExactlyInAnyOrder("a", "b");
    assertThat(overGrpc).containsExactlyInAnyOrder("a", "b");

    // Kill b: its server stops and its ZooKeeper connection is cut.
    bToZooKeeper.disable();
    b.close();
    long killedAt = System.nanoTime();

    AtomicInteger failed = new AtomicInteger();
    AtomicInteger fromA = new AtomicInteger();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              try {
                boolean a1 = rest.call(WHO, new Who("t")).name().equals("a");
                boolean a2 = grpc.call(WHO, new Who("t")).name().equals("a");
                return a1 && a2 && fromA.incrementAndGet() >= 10;
              } catch (ParleyException e) {
                failed.incrementAndGet();
                fromA.set(0);
                return false;
              }
            });
    long carriedOnMs = (System.nanoTime() - killedAt) / 1_000_000;
    // The registry forgets b once its session expires.
    await().atMost(Duration.ofSeconds(60)).until(() -> registered.endpoints().size() == 1);
    assertThat(registered.endpoints().get(0).port()).isEqualTo(a.port());
    assertThat(bToZooKeeper.resets()).as("b's ZooKeeper connection was cut").isPositive();
    System.out.printf(
        "calls failed while b was being found dead: %d; only a answered %d ms after the kill%n",
        failed.get(), carriedOnMs);
  }

  private RpcClient client(Binding binding, EndpointGroup endpoints) {
    RpcClient client =
        RpcClient.builder()
            .binding(binding)
            .endpoints(endpoints)
            .codecs(Codecs.of(JsonCodec.of()))
            .policy(
                Policy.builder()
                    .deadline(Duration.ofSeconds(2))
                    .retry(3, Duration.ofMillis(10), Duration.ofMillis(50))
                    .build())
            .build();
    closeables.add(client);
    return client;
  }
}
