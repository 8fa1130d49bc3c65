package dev.parley.rpc.discovery;

import com.linecorp.armeria.client.Endpoint;
import com.linecorp.armeria.client.endpoint.DynamicEndpointGroup;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.ServiceCacheListener;

/**
 * The instances of one service as registered in ZooKeeper, as an Armeria endpoint group: a Curator
 * service cache watches the service's node and every change replaces the group's endpoints. Wrap it
 * in Armeria's {@code HealthCheckedEndpointGroup} to also drop instances that stop answering before
 * ZooKeeper notices.
 */
public final class ZooKeeperEndpointGroup extends DynamicEndpointGroup {

  private final String service;
  private final ServiceCache<Void> cache;

  private ZooKeeperEndpointGroup(ServiceDiscovery<Void> discovery, String service) {
    this.service = service;
    this.cache = discovery.serviceCacheBuilder().name(service).build();
  }

  static ZooKeeperEndpointGroup start(ServiceDiscovery<Void> discovery, String service) {
    ZooKeeperEndpointGroup group = new ZooKeeperEndpointGroup(discovery, service);
    group.cache.addListener(
        new ServiceCacheListener() {
          @Override
          public void cacheChanged() {
            group.refresh();
          }

          @Override
          public void stateChanged(CuratorFramework client, ConnectionState state) {
            // Keep the last known instances while ZooKeeper is away; health checks cover them.
          }
        });
    try {
      group.cache.start();
    } catch (Exception e) {
      throw new DiscoveryException("cannot watch service " + service, e);
    }
    group.refresh();
    return group;
  }

  private void refresh() {
    List<Endpoint> endpoints =
        cache.getInstances().stream()
            .map(ZooKeeperEndpointGroup::endpoint)
            .collect(Collectors.toList());
    setEndpoints(endpoints);
  }

  private static Endpoint endpoint(ServiceInstance<Void> instance) {
    return Endpoint.of(instance.getAddress(), instance.getPort());
  }

  /** The service this group follows. */
  public String service() {
    return service;
  }

  @Override
  protected void doCloseAsync(CompletableFuture<?> future) {
    try {
      cache.close();
    } catch (Exception e) {
      // closing anyway
    }
    future.complete(null);
  }
}
