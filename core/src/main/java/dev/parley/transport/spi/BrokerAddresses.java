package dev.parley.transport.spi;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The nodes of a broker cluster (or a live/backup pair) as a transport is given them: {@code
 * host[:port]} each, {@code [address]:port} for IPv6, either one by one ({@code addresses(…)} on a
 * transport's builder) or separated by commas in a broker URI's authority ({@code
 * stomp://user:pw@node-1:61613,node-2,node-3:61615/vhost}), as {@code PARLEY_BROKER_URL} can name
 * them (host names and IPv4 addresses there: {@code java.net.URI} refuses an IPv6 literal's
 * brackets in such an authority). One parser for every transport, so that each reads and refuses
 * the same text alike.
 */
public final class BrokerAddresses {

  /**
   * A node: its host as written (an IPv6 literal keeps its brackets, as a URI and a socket both
   * take it) and its port, or {@code -1} when none was given (the scheme's own then applies).
   */
  public record HostAndPort(String host, int port) {

    public HostAndPort {
      Objects.requireNonNull(host, "host");
    }

    /** The port, or {@code defaultPort} when none was given. */
    public int portOr(int defaultPort) {
      return port > 0 ? port : defaultPort;
    }

    @Override
    public String toString() {
      return port > 0 ? host + ":" + port : host;
    }
  }

  /**
   * A URI that named several hosts: the same URI with the first host alone (its user, password,
   * path and query kept), and every host in the order given.
   */
  public record Split(URI firstHost, List<HostAndPort> hosts) {}

  private BrokerAddresses() {}

  /**
   * Reads {@code host[:port]} texts, blanks around each ignored.
   *
   * @throws IllegalArgumentException naming the text that is not {@code host[:port]} with a port
   *     1-65535, or when there is none
   */
  public static List<HostAndPort> parse(String... hostAndPorts) {
    Objects.requireNonNull(hostAndPorts, "hostAndPorts");
    if (hostAndPorts.length == 0) {
      throw new IllegalArgumentException("addresses: none (expected: at least one host[:port])");
    }
    List<HostAndPort> parsed = new ArrayList<>(hostAndPorts.length);
    for (String text : hostAndPorts) {
      Objects.requireNonNull(text, "an address");
      parsed.add(parseOne(text));
    }
    return List.copyOf(parsed);
  }

  private static HostAndPort parseOne(String text) {
    String s = text.strip();
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || (close + 1 < s.length() && s.charAt(close + 1) != ':')) {
        throw refused(text);
      }
      host = s.substring(0, close + 1);
      port = close + 1 < s.length() ? s.substring(close + 2) : null;
      if (host.length() == 2) {
        throw refused(text);
      }
    } else {
      int colon = s.indexOf(':');
      if (colon >= 0 && s.indexOf(':', colon + 1) >= 0) {
        throw refused(text); // an IPv6 literal needs its brackets to be told from a port
      }
      host = colon < 0 ? s : s.substring(0, colon);
      port = colon < 0 ? null : s.substring(colon + 1);
    }
    if (host.isEmpty() || host.chars().anyMatch(c -> Character.isWhitespace(c) || c == '/')) {
      throw refused(text);
    }
    if (port == null) {
      return new HostAndPort(host, -1);
    }
    int number;
    try {
      number = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw refused(text);
    }
    if (number < 1 || number > 65535) {
      throw refused(text);
    }
    return new HostAndPort(host, number);
  }

  /**
   * The nodes a transport connects to, each with its port: {@code addresses} if any were given,
   * else the URI's host; {@code defaultPort} where none was given (the scheme's).
   */
  public static List<HostAndPort> nodes(URI uri, List<HostAndPort> addresses, int defaultPort) {
    List<HostAndPort> given =
        addresses.isEmpty() ? List.of(new HostAndPort(uri.getHost(), uri.getPort())) : addresses;
    return given.stream().map(a -> new HostAndPort(a.host(), a.portOr(defaultPort))).toList();
  }

  private static IllegalArgumentException refused(String text) {
    return new IllegalArgumentException(
        "addresses: '" + text + "' (expected: host[:port], a port 1-65535)");
  }

  /**
   * The hosts of a URI that names several, separated by commas ({@code java.net.URI} reads such an
   * authority as registry-based, with no host of its own); empty for a URI with one host.
   *
   * @throws IllegalArgumentException if one of them is not {@code host[:port]}
   */
  public static Optional<Split> split(URI uri) {
    String authority = uri.getRawAuthority();
    if (uri.getHost() != null || authority == null || !authority.contains(",")) {
      return Optional.empty();
    }
    int at = authority.lastIndexOf('@');
    List<HostAndPort> hosts = parse(authority.substring(at + 1).split(",", -1));
    URI first =
        URI.create(
            uri.getScheme()
                + "://"
                + authority.substring(0, at + 1)
                + hosts.get(0)
                + (uri.getRawPath() == null ? "" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
    return Optional.of(new Split(first, hosts));
  }
}
