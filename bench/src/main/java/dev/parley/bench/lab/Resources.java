package dev.parley.bench.lab;

import com.rabbitmq.client.ConnectionFactory;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.apache.qpid.jms.JmsConnectionFactory;

/** What a lab section opened, closed in reverse order; raw client connections opened here. */
final class Resources implements AutoCloseable {

  private final List<AutoCloseable> opened = new ArrayList<>();

  <T extends AutoCloseable> T add(T resource) {
    opened.add(resource);
    return resource;
  }

  /** An amqp-client connection to {@code uri} ({@code /} means the default vhost). */
  com.rabbitmq.client.Connection rabbit(String uri, String name) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(uri.endsWith("/") ? uri + "%2F" : uri);
    return add(factory.newConnection(name));
  }

  /** A Qpid JMS connection to the AMQP 1.0 port of {@code amqp}. */
  jakarta.jms.Connection jms(URI amqp) throws jakarta.jms.JMSException {
    return jms(amqp, "");
  }

  /** A Qpid JMS connection to the AMQP 1.0 port of {@code amqp}, with Qpid JMS's URI options. */
  jakarta.jms.Connection jms(URI amqp, String options) throws jakarta.jms.JMSException {
    return add(
        new JmsConnectionFactory("amqp://127.0.0.1:" + amqp.getPort() + options)
            .createConnection());
  }

  @Override
  public void close() {
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        System.err.println("lab: closing " + opened.get(i) + ": " + e);
      }
    }
  }
}
