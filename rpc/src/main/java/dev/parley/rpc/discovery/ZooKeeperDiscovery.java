package dev.parley.rpc.discovery;

import com.linecorp.armeria.client.endpoint.EndpointGroup;
import dev.parley.transport.spi.Durations;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;

/**
 * Service discovery through a ZooKeeper ensemble (Apache Curator's service discovery): instances
 * {@linkplain #register register} themselves as ephemeral nodes, which ZooKeeper removes when the
 * instance's session ends (it stops, or dies and its session expires); clients get an Armeria
 * {@link EndpointGroup} per service that follows the registrations as they change.
 *
 * <pre>{@code
 * try (ZooKeeperDiscovery zk = ZooKeeperDiscovery.builder("zk1:2181,zk2:2181").build()) {
 *   zk.register("kitchen", "10.0.0.7", 8080);                       // on each instance
 *   EndpointGroup kitchens = zk.endpoints("kitchen");                // on each client
 * }
 * }</pre>
 *
 * Layout: {@code <basePath>/<service>/<instance id>} holding Curator's JSON instance record (name,
 * id, address, port), so other Curator clients see Parley's instances and the reverse.
 */
public final class ZooKeeperDiscovery implements AutoCloseable {

  private final CuratorFramework client;
  private final ServiceDiscovery<Void> discovery;

  private ZooKeeperDiscovery(Builder b) {
    this.client =
        CuratorFrameworkFactory.newClient(
            b.connectString,
            (int) b.sessionTimeout.toMillis(),
            (int) b.connectionTimeout.toMillis(),
            new ExponentialBackoffRetry(100, 10, 2_000));
    client.start();
    this.discovery =
        ServiceDiscoveryBuilder.builder(Void.class)
            .client(client)
            .basePath(b.basePath)
            .watchInstances(true)
            .build();
    try {
      discovery.start();
    } catch (Exception e) {
      client.close();
      throw new DiscoveryException("cannot start discovery on " + b.connectString, e);
    }
  }

  public static Builder builder(String connectString) {
    return new Builder(connectString);
  }

  /**
   * Registers an instance of {@code service} at {@code host:port} for as long as this discovery
   * (its ZooKeeper session) lives, or until the registration is closed.
   */
  public Registration register(String service, String host, int port) {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(host, "host");
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
    }
    try {
      ServiceInstance<Void> instance =
          ServiceInstance.<Void>builder()
              .name(service)
              .id(UUID.randomUUID().toString())
              .address(host)
              .port(port)
              .build();
      discovery.registerService(instance);
      return new Registration(discovery, instance);
    } catch (Exception e) {
      throw new DiscoveryException("cannot register " + service + " at " + host + ":" + port, e);
    }
  }

  /** The instances of {@code service}, kept up to date; close it when done. */
  public ZooKeeperEndpointGroup endpoints(String service) {
    return ZooKeeperEndpointGroup.start(discovery, Objects.requireNonNull(service, "service"));
  }

  /** Ends the session: this process's registrations disappear. */
  @Override
  public void close() {
    try {
      // Unregistering needs ZooKeeper; when it is out of reach, closing the client is enough (the
      // session's ephemeral nodes go when it expires) and retrying would only hold up the close.
      if (client.getZookeeperClient().isConnected()) {
        discovery.close();
      }
    } catch (Exception e) {
      // closing anyway
    } finally {
      client.close();
    }
  }

  /** Configures a {@link ZooKeeperDiscovery}. */
  public static final class Builder {
    private final String connectString;
    private String basePath = "/parley/services";
    private Duration sessionTimeout = Duration.ofSeconds(10);
    private Duration connectionTimeout = Duration.ofSeconds(5);

    private Builder(String connectString) {
      this.connectString = Objects.requireNonNull(connectString, "connectString");
    }

    /** Where the services live in ZooKeeper; default {@code /parley/services}. */
    public Builder basePath(String basePath) {
      this.basePath = Objects.requireNonNull(basePath, "basePath");
      return this;
    }

    /**
     * How long ZooKeeper keeps a silent instance's registration (a process that died without
     * closing); default 10 s.
     */
    public Builder sessionTimeout(Duration sessionTimeout) {
      this.sessionTimeout = Durations.positive(sessionTimeout, "sessionTimeout");
      return this;
    }

    public Builder connectionTimeout(Duration connectionTimeout) {
      this.connectionTimeout = Durations.positive(connectionTimeout, "connectionTimeout");
      return this;
    }

    public ZooKeeperDiscovery build() {
      return new ZooKeeperDiscovery(this);
    }
  }

  /** One registered instance; {@link #close()} unregisters it. */
  public static final class Registration implements AutoCloseable {
    private final ServiceDiscovery<Void> discovery;
    private final ServiceInstance<Void> instance;

    Registration(ServiceDiscovery<Void> discovery, ServiceInstance<Void> instance) {
      this.discovery = discovery;
      this.instance = instance;
    }

    public String id() {
      return instance.getId();
    }

    @Override
    public void close() {
      try {
        discovery.unregisterService(instance);
      } catch (Exception e) {
        throw new DiscoveryException("cannot unregister " + instance.getId(), e);
      }
    }
  }
}
