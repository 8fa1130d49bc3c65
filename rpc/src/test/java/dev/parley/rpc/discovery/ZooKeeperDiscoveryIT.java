package dev.parley.rpc.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.endpoint.healthcheck.HealthCheckedEndpointGroup;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.healthcheck.HealthCheckService;
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

  private Server instance(String name) {
    Server server =
        Server.builder()
            .http(0)
            .service("/hello", (ctx, req) -> HttpResponse.of(name))
            .service("/internal/health", HealthCheckService.of())
            .build();
    server.start().join();
    closeables.add(server::close);
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
    Server a = instance("a");
    Server b = instance("b");
    discovery(zookeeper.getConnectString()).register("greeter", "127.0.0.1", a.activeLocalPort());
    // Instance b reaches ZooKeeper through a proxy, so that it can die without a goodbye.
    FaultProxy bToZooKeeper = FaultProxy.to("127.0.0.1", zookeeper.getPort());
    closeables.add(bToZooKeeper);
    discovery("127.0.0.1:" + bToZooKeeper.port())
        .register("greeter", "127.0.0.1", b.activeLocalPort());

    ZooKeeperEndpointGroup registered =
        discovery(zookeeper.getConnectString()).endpoints("greeter");
    closeables.add(registered);
    HealthCheckedEndpointGroup healthy =
        HealthCheckedEndpointGroup.builder(registered, "/internal/health")
            .retryInterval(Duration.ofMillis(300))
            .build();
    closeables.add(healthy);
    WebClient client = WebClient.builder(SessionProtocol.HTTP, healthy).build();

    await().atMost(Duration.ofSeconds(30)).until(() -> healthy.endpoints().size() == 2);
    Set<String> answered = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      answered.add(client.get("/hello").aggregate().join().contentUtf8());
    }
    assertThat(answered).containsExactlyInAnyOrder("a", "b");

    // Kill b: its server stops and its ZooKeeper connection is cut.
    b.stop().join();
    bToZooKeeper.disable();

    AtomicInteger failed = new AtomicInteger();
    AtomicInteger fromA = new AtomicInteger();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              try {
                String who = client.get("/hello").aggregate().join().contentUtf8();
                return who.equals("a") && fromA.incrementAndGet() >= 10;
              } catch (RuntimeException e) {
                failed.incrementAndGet();
                fromA.set(0);
                return false;
              }
            });
    // The registry forgets b once its session expires.
    await().atMost(Duration.ofSeconds(60)).until(() -> registered.endpoints().size() == 1);
    assertThat(registered.endpoints().get(0).port()).isEqualTo(a.activeLocalPort());
    assertThat(bToZooKeeper.resets()).as("b's ZooKeeper connection was cut").isPositive();
    System.out.printf("calls failed while b was being found dead: %d%n", failed.get());
  }
}
