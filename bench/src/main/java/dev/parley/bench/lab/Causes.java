package dev.parley.bench.lab;

/**
 * What was found about each pair's gap, written where a row misses its goal. These are findings of
 * earlier profiling (JFR samples, the split send/consume runs of {@code TransportBench}, the
 * diagnostic rows of {@code ExactlyOnceBench}), recorded in {@code docs/benchmarks/*.md}; a row
 * that misses for a reason not listed here says so.
 */
final class Causes {

  private Causes() {}

  static final String GRPC_THROUGHPUT =
      "noise: the same pair measured 0.90–0.99 in rpc.md; per call Parley adds the operation"
          + " lookup, the policy future and codec marshalling through a lenient marshaller";

  static final String GRPC_P50 =
      "Parley's call adds a CallFuture, the deadline entry on DeadlineTimer and the codec"
          + " marshaller (+6 to +12 µs in rpc.md); with one call in flight on 2 shared vCPUs the"
          + " spread between repetitions is larger than the goal";

  static final String REST =
      "per call Parley adds the route's codec negotiation (Content-Type/Accept), the problem-JSON"
          + " error mapping and the policy future; the spread between runs is ±15 % (rpc.md)";

  static final String POLICY =
      "Resilience4j's AtomicRateLimiter allocates an immutable state object per permit (104 B);"
          + " end to end the difference is within the run's spread (rpc.md)";

  /**
   * Request/reply over a broker. Found in this lab: replies used to be persistent, which cost
   * Artemis a journal sync per reply (0.10 of raw, +3.4 ms p50); they are transient now (+21 µs p50
   * on Artemis). What remains is measured, not yet profiled in detail.
   */
  static String requestReply(String binding) {
    String serial =
        "the responder (Messaging.serve, concurrency 1 by default) handles one request at a time"
            + " and acknowledges it only after the broker accepted its reply, so each request"
            + " costs a reply round trip before the next starts; the raw responder publishes and"
            + " acknowledges without waiting. serve with SubscriptionOptions.withConcurrency(n)"
            + " overlaps them (not used here: the default is measured)";
    if (binding.startsWith("AMQP")) {
      return serial;
    }
    return serial
        + "; one in flight, not yet profiled: a worker hand-off per delivery on both the request"
        + " and the reply consumer, the header copy into a Message, the UUIDv7 id"
        + (binding.startsWith("STOMP") ? ", and a receipt per SEND" : ", and a confirm per send");
  }

  static String events(String transport) {
    if (transport.startsWith("RabbitMQ")) {
      return "send side ≈ 3 µs CPU per message (UUIDv7 id, header map and wire headers, a"
          + " CompletableFuture per send, the confirm map), consume side 2–3 µs (a thread"
          + " hand-off per delivery, the header copy into a Message) — transports.md";
    }
    if (transport.startsWith("STOMP")) {
      return "frames built through header maps copied twice per SEND, a worker hand-off per"
          + " MESSAGE and the Message copy (transports.md)";
    }
    return "Parley's AMQP transport hands each delivery from Qpid JMS's dispatch thread to a worker"
        + " and acknowledges individually (INDIVIDUAL_ACKNOWLEDGE); raw JMS consumes on the"
        + " dispatch thread with auto-acknowledge";
  }

  static String codec(String format, String op) {
    return "the adapter resolves the type's reader/writer per call and copies the bytes once;"
        + " single-digit nanosecond differences are below this loop's resolution (CodecBench's JMH"
        + " figures in codecs.md are the reference)";
  }

  static final String OUTBOX =
      "one more statement in the caller's transaction (the key's advisory lock, the commit"
          + " notification and a wider row in one WITH … INSERT) next to a one-statement business"
          + " transaction (exactly-once.md)";

  static final String INBOX =
      "one more statement (the (group, id) insert) next to a one-statement handler, per commit;"
          + " batching shares it (exactly-once.md)";

  static final String BATCHING =
      "the batch forms only from deliveries that arrive while the previous batch commits; with 32"
          + " callers on 2 vCPUs batches are often smaller than 32 (exactly-once.md)";

  static final String RELAY =
      "a lease renewal and a read per round, headers stored as text and parsed back, a future per"
          + " send, and the RabbitMQ transport itself (exactly-once.md); not profiled further";

  static final String DEDUP =
      "dedup adds the (group, id) insert per message to each batch; the broker is no longer the"
          + " only bottleneck when PostgreSQL commits share the same 2 vCPUs";

  static final String MOONSHOT =
      "the relay (about 0.7 of a raw SKIP LOCKED loop) and the writers' own commits on 2 shared"
          + " vCPUs with RabbitMQ and PostgreSQL (exactly-once.md)";
}
