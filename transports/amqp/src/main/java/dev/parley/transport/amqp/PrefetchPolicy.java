package dev.parley.transport.amqp;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.qpid.jms.JmsDestination;
import org.apache.qpid.jms.JmsSession;
import org.apache.qpid.jms.policy.JmsPrefetchPolicy;

/** Per-address prefetch, so each subscription's setting applies on the one shared connection. */
final class PrefetchPolicy implements JmsPrefetchPolicy {

  private static final int DEFAULT = 10;
  private final Map<String, Integer> byAddress = new ConcurrentHashMap<>();

  void set(String address, int prefetch) {
    byAddress.put(address, prefetch);
  }

  @Override
  public JmsPrefetchPolicy copy() {
    return this; // shared on purpose: subscriptions register after the connection exists
  }

  @Override
  public int getConfiguredPrefetch(
      JmsSession session, JmsDestination destination, boolean durable, boolean browser) {
    return byAddress.getOrDefault(destination.getAddress(), DEFAULT);
  }
}
