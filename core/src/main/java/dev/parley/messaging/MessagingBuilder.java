package dev.parley.messaging;

import dev.parley.codec.Codecs;
import dev.parley.policy.Policy;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportProvider;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Configures a {@link Messaging}. Everything has a default:
 *
 * <ul>
 *   <li>transport: the one given, else the broker URI given, else the {@code PARLEY_BROKER_URL}
 *       environment variable or {@code parley.broker.url} system property, else the
 *       zero-configuration default of the transport on the class path (AMQP: the embedded broker);
 *   <li>codecs: those on the class path ({@code parley-codec-json});
 *   <li>service name: {@code parley-app}; clock: the system clock.
 * </ul>
 *
 * Not thread-safe.
 */
public final class MessagingBuilder {

  /** Environment variable naming the broker URL. */
  public static final String BROKER_URL_ENV = "PARLEY_BROKER_URL";

  /** System property naming the broker URL; wins over the environment variable. */
  public static final String BROKER_URL_PROPERTY = "parley.broker.url";

  private String service = "parley-app";
  private Transport transport;
  private URI brokerUri;
  private Codecs codecs;
  private Clock clock = Clock.systemUTC();
  private SubscriptionOptions subscriptionOptions = SubscriptionOptions.defaults();
  private Policy publishPolicy = Policy.none();
  private final List<DeliveryInterceptor> interceptors = new ArrayList<>();
  private final List<DeliveryInterceptor> attemptInterceptors = new ArrayList<>();
  private final List<PublishInterceptor> publishInterceptors = new ArrayList<>();
  private final List<String> replyTo = new ArrayList<>();

  MessagingBuilder() {}

  /** The service name, sent as {@code parley-source} and part of the reply channel's name. */
  public MessagingBuilder service(String service) {
    if (service == null || service.isBlank() || service.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(
          "service: '" + service + "' (expected: non-blank, no whitespace)");
    }
    this.service = service;
    return this;
  }

  /** Uses this transport; the caller keeps ownership and closes it after the messaging. */
  public MessagingBuilder transport(Transport transport) {
    this.transport = Objects.requireNonNull(transport, "transport");
    return this;
  }

  /**
   * Connects to this broker, e.g. {@code amqp://broker:5672}, with the transport that supports it.
   */
  public MessagingBuilder brokerUri(String brokerUri) {
    this.brokerUri = parse(Objects.requireNonNull(brokerUri, "brokerUri"), "brokerUri");
    return this;
  }

  public MessagingBuilder codecs(Codecs codecs) {
    this.codecs = Objects.requireNonNull(codecs, "codecs");
    return this;
  }

  /** The clock deadlines are measured with. */
  public MessagingBuilder clock(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    return this;
  }

  /** The options subscriptions use unless given others. */
  public MessagingBuilder subscriptionOptions(SubscriptionOptions options) {
    this.subscriptionOptions = Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * The policy every publish, send and request goes through: its deadline bounds the wait for the
   * broker's confirmation, its retries resend on transport failures (with the same message id, so
   * an idempotent consumer drops a duplicate), its circuit breaker fails fast while the broker is
   * unreachable, its rate limit and bulkhead bound the producer. {@link Policy#none()} by default.
   */
  public MessagingBuilder publishPolicy(Policy policy) {
    this.publishPolicy = Objects.requireNonNull(policy, "policy");
    return this;
  }

  /**
   * Adds an interceptor to every subscription's chain, after those added before it and before the
   * subscription's own ({@link SubscriptionOptions#withInterceptor}) and Parley's steps.
   */
  public MessagingBuilder interceptor(DeliveryInterceptor interceptor) {
    interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
    return this;
  }

  /**
   * Adds an interceptor of each handling attempt to every subscription's chain, inside its {@code
   * retry} step, after those added before it and before the subscription's own ({@link
   * SubscriptionOptions#withAttemptInterceptor}, which says what it sees).
   */
  public MessagingBuilder attemptInterceptor(DeliveryInterceptor interceptor) {
    attemptInterceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
    return this;
  }

  /** Adds an interceptor to every send, after those added before it and before the policy. */
  public MessagingBuilder publishInterceptor(PublishInterceptor interceptor) {
    publishInterceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
    return this;
  }

  /**
   * Lets this service's responders answer requests whose {@code parley-reply-to} matches one of
   * {@code patterns} ({@code *} for any characters, e.g. {@code "billing.replies.*"}), besides
   * Parley's own reply queues ({@code parley.reply.*}) and the broker's own reply mechanism
   * (RabbitMQ's direct reply-to and server-named queues), which are always allowed. A request
   * naming any other destination is dead-lettered once with {@code parley.reply_to.not_allowed} and
   * its handler does not run: otherwise a sender could aim replies at another service's command
   * queue. For foreign callers with reply queues of their own.
   */
  public MessagingBuilder allowReplyTo(String... patterns) {
    for (String p : patterns) {
      ReplyTargets.glob(p); // refuses a bad pattern here rather than at the first request
      replyTo.add(p);
    }
    return this;
  }

  public Messaging build() {
    Codecs resolvedCodecs = codecs != null ? codecs : Codecs.discover();
    boolean owned = transport == null;
    Transport resolved = owned ? createTransport() : transport;
    return new DefaultMessaging(
        service,
        resolved,
        owned,
        resolvedCodecs,
        clock,
        subscriptionOptions,
        publishPolicy,
        List.copyOf(interceptors),
        List.copyOf(attemptInterceptors),
        List.copyOf(publishInterceptors),
        List.copyOf(replyTo));
  }

  private Transport createTransport() {
    Optional<URI> uri = Optional.ofNullable(brokerUri).or(MessagingBuilder::configuredUri);
    List<TransportProvider> providers = new ArrayList<>();
    ServiceLoader.load(TransportProvider.class, MessagingBuilder.class.getClassLoader())
        .forEach(providers::add);
    if (providers.isEmpty()) {
      throw new IllegalStateException(
          "No Parley transport on the class path: add dev.parley:parley-transport-amqp");
    }
    if (uri.isEmpty()) {
      return providers.get(0).create(Optional.empty());
    }
    return providers.stream()
        .filter(p -> p.supports(uri.get()))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "No Parley transport supports "
                        + uri.get().getScheme()
                        + ": add the transport artifact for it (amqp: dev.parley:parley-transport-amqp)"))
        .create(uri);
  }

  private static Optional<URI> configuredUri() {
    String value = System.getProperty(BROKER_URL_PROPERTY);
    if (value == null || value.isBlank()) {
      value = System.getenv(BROKER_URL_ENV);
    }
    return value == null || value.isBlank()
        ? Optional.empty()
        : Optional.of(parse(value, BROKER_URL_PROPERTY + " / " + BROKER_URL_ENV));
  }

  /**
   * A broker URI; {@code URI.create}'s own message quotes the whole input (an unencoded space or
   * {@code %} in a password is enough to get there), so it is neither the message nor the cause.
   */
  private static URI parse(String value, String what) {
    try {
      return new URI(value);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException(
          what
              + ": not a URI ("
              + e.getReason()
              + " at index "
              + e.getIndex()
              + "; the URI itself is not repeated, it may hold a password"
              + "; percent-encode reserved characters in the user name and password)");
    }
  }
}
