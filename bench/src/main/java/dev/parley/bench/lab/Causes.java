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
   * Request/reply over a broker. Found with this lab: replies used to be persistent, which cost
   * Artemis a journal sync per reply (0.10 of raw, +3.4 ms p50); they are transient now (+21 µs p50
   * on Artemis). What remains shows in the context-switch column.
   */
  static String requestReply(String binding) {
    String handOffs =
        "thread hand-offs: Parley's side switches threads several times per call where the raw"
            + " client switches once or twice (the context-switch column; RabbitMQ 1.7 vs 10.2"
            + " per call when this was found): every delivery, on the responder's request consumer"
            + " and on the caller's reply consumer, goes from the client library's thread to a"
            + " consumer worker, and send confirmations complete on another thread; the raw"
            + " responder and reply listener run on the library's own thread. Besides, the"
            + " responder (serve, concurrency 1 by default) acknowledges a request only once the"
            + " broker accepted its reply, so requests do not overlap (concurrency 8 measured"
            + " 0.39 instead of 0.25 on RabbitMQ in a quick run)";
    if (binding.startsWith("AMQP")) {
      return handOffs
          + "; the embedded Artemis runs in this process, so its threads' switches and CPU count"
          + " on both sides";
    }
    return handOffs;
  }

  static String events(String transport) {
    String common =
        " A thread hand-off per delivery (client library thread → consumer worker) shows in the"
            + " context-switch column.";
    if (transport.startsWith("RabbitMQ")) {
      return "send side ≈ 3 µs CPU per message (UUIDv7 id, header map and wire headers, a"
          + " CompletableFuture per send, the confirm map), consume side 2–3 µs (the hand-off,"
          + " the header copy into a Message) — transports.md."
          + common;
    }
    if (transport.startsWith("STOMP")) {
      return "frames built through header maps copied twice per SEND, the hand-off per MESSAGE"
          + " and the Message copy (transports.md)."
          + common;
    }
    return "Parley's AMQP transport hands each delivery from Qpid JMS's dispatch thread to a worker"
        + " and acknowledges individually (INDIVIDUAL_ACKNOWLEDGE); raw JMS consumes on the"
        + " dispatch thread with auto-acknowledge."
        + common;
  }

  static String codec(String format, String op) {
    if (format.equals("thrift") && op.equals("decode")) {
      return "work libthrift does not do: Parley validates every string as strict UTF-8 and counts"
          + " struct depth (JMH in codecs.md: 0.90, +60 ns/op, the price of refusing malformed"
          + " input); this loop's spread is wider than JMH's";
    }
    return "within this loop's noise: the JMH figures of CodecBench (codecs.md, 2 forks) are the"
        + " reference for nanoseconds";
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
