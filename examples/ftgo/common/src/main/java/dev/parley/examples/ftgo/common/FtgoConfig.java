package dev.parley.examples.ftgo.common;

import java.util.Locale;
import java.util.Optional;

/**
 * Configuration from system properties ({@code -Dftgo.jdbc.url=…}) or, failing that, environment
 * variables ({@code FTGO_JDBC_URL}). With nothing set, every service runs on embedded defaults: the
 * embedded broker and an in-memory H2 database of its own.
 *
 * <table>
 *   <caption>settings</caption>
 *   <tr><td>{@code ftgo.broker.url}</td><td>broker URI ({@code rabbitmq://…}, {@code amqp://…});
 *       else {@code PARLEY_BROKER_URL}; else the embedded broker</td></tr>
 *   <tr><td>{@code ftgo.jdbc.url}</td><td>a PostgreSQL URL: each service gets schema {@code
 *       <prefix><service>}; else H2 in memory</td></tr>
 *   <tr><td>{@code ftgo.schema.prefix}</td><td>schema prefix, {@code ftgo_} by default</td></tr>
 *   <tr><td>{@code ftgo.<service>.port}</td><td>the service's HTTP/gRPC port (0: any free)</td></tr>
 *   <tr><td>{@code ftgo.<service>.endpoints}</td><td>where to find a service: {@code
 *       host:port[,host:port]}</td></tr>
 * </table>
 */
public final class FtgoConfig {

  private FtgoConfig() {}

  public static Optional<String> get(String key) {
    String value = System.getProperty(key);
    if (value == null || value.isBlank()) {
      value = System.getenv(key.toUpperCase(Locale.ROOT).replace('.', '_'));
    }
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  public static int port(String service, int fallback) {
    return get("ftgo." + service + ".port").map(Integer::parseInt).orElse(fallback);
  }

  public static Optional<String> endpoints(String service) {
    return get("ftgo." + service + ".endpoints");
  }

  public static Optional<String> brokerUrl() {
    return get("ftgo.broker.url");
  }

  public static Optional<String> jdbcUrl() {
    return get("ftgo.jdbc.url");
  }

  public static String schemaPrefix() {
    return get("ftgo.schema.prefix").orElse("ftgo_");
  }
}
