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
          + " end to end the difference is within the run's spread (rpc.md). The deadline timer"
          + " ticks every 2 ms while it holds a deadline: a version that slept until its earliest"
          + " deadline instead (tried 2026-12-03, reverted) used less CPU per call than raw but"
          + " measured 0.94–0.97 of raw here against 1.06 ticking (driver, 10 rounds of 20,000"
          + " calls each way): on 2 vCPUs under partial load a ticking thread keeps the vCPUs"
          + " from idling between calls, which looks like the likelier reason, not measured";

  /**
   * Request/reply over a broker. Found with this lab: replies used to be persistent, which cost
   * Artemis a journal sync per reply (0.10 of raw, +3.4 ms p50); they are transient now. The
   * delivery engine (issue 17) removed the waits: transports push deliveries, a responder works on
   * up to its prefetch of requests with 8 lanes, and no thread waits for a reply's confirm (before:
   * one request at a time per consumer, 0.22 of raw on RabbitMQ, 0.47 on AMQP 1.0, 0.27 on STOMP).
   */
  static String requestReply(String binding) {
    String remaining =
        "at 64 in flight both sides keep the 2 vCPUs busy (JVM and broker together), so the ratio"
            + " is that of CPU per call; Parley spends more of it than the raw client (ids, header"
            + " maps and their validation, the reply token, the codec, futures) and switches"
            + " threads more — the responder's blocking handler runs on its handler pool (one hop"
            + " per request; an AsyncCommandHandler runs on the transport's thread instead);"
            + " requests go out as the raw requester's do — on RabbitMQ without a publisher"
            + " confirm and on STOMP without a RECEIPT since 2026-12-03 (their reply confirms"
            + " them), on AMQP 1.0 both sides waiting for the broker's outcome asynchronously";
    if (binding.startsWith("AMQP")) {
      return remaining
          + "; the embedded Artemis runs in this process, so its threads' switches and CPU count"
          + " on both sides: per call a driver interleaving both (2026-12-03) measured about 800"
          + " µs of process CPU and 27 context switches for raw Qpid JMS, Parley +100 to +200 µs"
          + " and +1 to +3 switches, and its profile is mostly proton's codec and Artemis (each"
          + " of Parley's 8–9 application properties is encoded, decoded and scanned);"
          + " replies sent on the settle thread just before the request's acceptance, without"
          + " waiting for the broker's outcome (since 2026-12-03), left that driver's ratio"
          + " where it was (median 0.79 before, 0.78 after; 3 JVM runs of 4 repetitions each);"
          + " made on the handler thread instead (since 2026-12-04, one switch fewer per call:"
          + " 28.4 against 30.7), 0.85 and 0.85 against 0.81 and 0.84 (a driver with this pair, 20"
          + " rounds each)."
          + " The JIT matters here: in ten rounds of 8,000 calls a later driver measured 0.61–0.76"
          + " in the first three rounds and 0.81–1.00 in the last seven, both sides still"
          + " speeding up (hence the lab's warm-up since 2026-12-03, since 2026-12-05 at least"
          + " 100,000 calls per side: each side alone in a fresh JVM reached its plateau after"
          + " about 35,000 calls raw and 75,000 Parley); replies now carry three application"
          + " properties fewer (no causation id, source or class name). The wire contract's"
          + " part (2026-12-05): the raw client sending Parley's requests and replies (8 and 5"
          + " application properties, the deadline as the TTL) ran at 0.87, 0.89 and 0.99 of"
          + " itself in three driver runs of 8–16 interleaved rounds, Parley at 0.82, 0.98 and"
          + " 0.91 in the same runs (single rounds 0.61–1.16). A JFR profile sampling every"
          + " millisecond, each side alone after its warm-up: per 1,000 calls 17.8 samples for"
          + " Parley against 11.7 for raw — proton's codec +1.9 (the application properties"
          + " encoded and decoded), Artemis +1.4 (+0.5 of it its duplicate-id check, which"
          + " searches every message's application properties for _AMQ_DUPL_ID; raw's messages"
          + " have none), Parley's own code +1.5 (message mapping and header checks, the lanes,"
          + " JSON), Qpid JMS +0.9. With 8 consumers of 64 credits the command queue was in"
          + " Artemis's direct-delivery mode 6–8 % of the time (raw's one consumer of 1,000"
          + " credits: all of it); with 512 credits all of it too, at the same rate (3,880"
          + " calls/s either way), so that is not the gap."
          + " Tried on 2026-12-06 and not adopted: the id, correlation id, reply address and"
          + " deadline only in the message's own fields (a request with 4 application"
          + " properties instead of 7, a reply with 2 instead of 4; Parley's id as the"
          + " message-id through Qpid JMS's id policy) — a driver of this pair (2 JVM runs"
          + " each way, 8 interleaved rounds of 8,000 calls after 80,000 warm-up calls per"
          + " side) measured Parley at 0.96 and 0.92 of raw before and 0.96 and 0.96 with"
          + " it, at 1.09 and 1.17 against 1.10 and 1.12 of raw's CPU per call, within the"
          + " spread; and Qpid JMS keys a producer's sends in flight by their message-id, so"
          + " two sends of one message in flight at once (a publish retried after its"
          + " timeout, the outbox relay sending a row again) would overwrite each other's"
          + " entry (a full-size M1 run with it was clean)";
    }
    if (binding.startsWith("STOMP")) {
      return remaining
          + "; per call, a driver interleaving both in one JVM after its warm-up (2026-12-03):"
          + " raw 30–35 µs of JVM CPU and 115–120 µs of broker CPU, Parley 53–64 µs and 172–180"
          + " µs. The broker's part: RabbitMQ's STOMP plugin spends about 3.5 µs per header line"
          + " (the raw client with 4 more headers on each request and reply: +30 to +45 µs, 0.75"
          + " to 0.85 of its rate), and a Parley request carried 10 lines and its reply 8"
          + " against the raw client's 6 and 4 (since 2026-12-05 the id, type, source and a"
          + " reply's correlation id go as the plugin's properties, and the reply's second"
          + " correlation line is gone; later that day the request's channel line and a"
          + " success's status line went too, which a driver measured at 1.04× — 3,329 against"
          + " 3,587 calls/s, 11 of 12 interleaved rounds faster). Requests without a RECEIPT"
          + " (since 2026-12-03;"
          + " the plugin also copied it into the message): a driver the same day measured 0.70"
          + " of raw at 64 in flight (6 rounds, 0.60–0.74), raw 35–55 µs of JVM CPU and"
          + " 127–145 µs of broker CPU per call, Parley 52–102 µs and 173–191 µs, and one in"
          + " flight a mean of about +120 µs per call (raw about 440 µs). The"
          + " JVM's part: the responder's hop to its handler pool, about three futex calls per"
          + " request on the handler threads (strace). Since 2026-12-03 the reader sleeps in one"
          + " read(2) (the socket was non-blocking, so each read cost a failed read and a"
          + " poll(2) too) and a reply leaves in one write with its request's ACK: that driver"
          + " went from 0.51–0.62 to 0.64–0.69 of raw. Handlers' ACKs and replies contend for"
          + " the connection's write monitor: a write queue that leaves a frame to the thread"
          + " already writing (no handler waits; tried 2026-12-04, not adopted) took the waits"
          + " of 10 ms and more from 165 to 11 in 20 s of JFR but left the rates where they were"
          + " (drivers, 8 rounds each way: request/reply 0.65–0.75 of raw either way, events"
          + " 0.60–0.75). Where the process's CPU goes (2026-12-05, a driver of 6 interleaved"
          + " rounds of 10,000 calls, per-thread CPU from /proc): raw 56–65 µs per call (its"
          + " readers 42–47, the caller 15–18), Parley 91–98 µs with its blocking handler (readers"
          + " 42–45, caller 16–20, handler threads 30, the deadline timer 3) — async-profiler puts"
          + " 40 % of the handler threads' samples in parking and waking (LinkedBlockingQueue.take)"
          + " and 23 % in the reply-and-ACK write; with serveAsync (no handler pool) Parley spent"
          + " 69 µs against raw's 65 in the same kind of run, yet its rate stayed at 0.79 of raw"
          + " (0.77 blocking): with the hop gone the gap left is the broker's work on Parley's"
          + " frames";
    }
    return remaining
        + "; per call, measured by a driver interleaving both in one JVM (2026-12-03): raw 32–37"
        + " µs of JVM CPU (14 µs user) and 82–96 µs of broker CPU, Parley 60–75 µs (35 µs user)"
        + " and 104–130 µs — the broker's part the requests' confirms, their remaining headers"
        + " table and the command queue's at-least-once dead-lettering arguments (about +75 µs"
        + " of latency one in flight). Replies on the request's channel without a confirm, no-ack"
        + " reply queues, no duplicated headers and no per-request TTL took that driver from"
        + " 0.48–0.56 to 0.71–0.81 of raw (3 JVM runs each, alternating). Requests without a"
        + " publisher confirm (since 2026-12-03): medians 0.96, 0.82 and 0.90 against 0.75, 0.87"
        + " and 0.75 with it (3 JVM runs of 6 rounds each way); per call after it raw 24–36 µs"
        + " of JVM CPU and 74–97 µs of broker CPU, Parley 45–56 µs and 88–111 µs, 2.0 context"
        + " switches against 1.0 (the handler hop; perf puts about 30 % of the JVM's samples in"
        + " the kernel's context-switch path). With an asynchronous handler (no hop, 1.0–1.2"
        + " switches) the ratio stayed where it was (0.84, 0.84): at 64 in flight the 2 vCPUs"
        + " are shared with the broker, which spends 10–20 µs more per call on Parley's"
        + " headers. The command queue's arguments are not it: the raw client into a queue with"
        + " Parley's (delivery limit, at-least-once dead-lettering, reject-publish) against a"
        + " plain quorum queue, interleaved (2026-12-03, 2 runs of 6 rounds), medians 0.94 and"
        + " 1.06 of the plain queue's rate and one-in-flight p50 −5 and +40 µs (the +75 µs"
        + " measured earlier was within this spread). The same day's profile of Parley's side:"
        + " 58 % of the JVM's samples in the kernel (switching, waking, TCP), 6 % in Parley's"
        + " own code"
        + ". The headers table itself, raw amqp-client with and without Parley's (2026-12-04,"
        + " 10 rounds of 10,000 interleaved): requests with 4 table entries and replies with 2"
        + " ran at 0.89–0.95 of the rate without any, the broker spending 9–11 µs more per call;"
        + " 2 entries and the source as the app_id property instead of 4 entries measured no"
        + " difference within the spread — what costs is a table at all, not each entry"
        + "; the content-header guard (HeaderTableGuard, since 2026-12-06) costs nothing"
        + " measurable: Parley with it beside Parley without, 7 interleaved repetitions after the"
        + " full warm-up (2026-12-06), request/reply 0.96 (0.91–1.05) of the rate without it at"
        + " the same CPU per call (1.00), events 1.01 (0.92–1.46) at 0.95 of its CPU per event";
  }

  /**
   * One call in flight: the vCPUs are mostly idle, so the gap is the path's latency, not CPU.
   * Measured 2026-12-04 with a driver of 40 rounds of 500 sequential calls after its warm-up.
   */
  static String oneInFlight(String binding) {
    String common =
        "one call in flight leaves the vCPUs mostly idle, so the gap is latency along the path,"
            + " not CPU. The responder's hop to its handler pool is measured alone in the section"
            + " \"The responder's hand-off\" below (serveAsync against serve, the same caller):"
            + " in the full lab of 2026-12-04 it was within the spread (STOMP +1 µs, −119 to +64;"
            + " RabbitMQ −39 µs, −121 to +85), while a driver the same day (STOMP, 40 rounds of"
            + " 500 sequential calls) measured Parley +100 to +250 µs over raw with the blocking"
            + " handler and −50 to +100 µs with serveAsync — what the wake-up costs depends on"
            + " where the scheduler puts the woken thread, and it is not the whole gap";
    if (binding.startsWith("STOMP")) {
      return common
          + ". On STOMP the rest is the broker's work on Parley's extra header lines (about 3.5"
          + " µs each, 4 more on a request and 4 more on its reply until 2026-12-05, when the id,"
          + " type, source and a reply's correlation id became the plugin's properties and the"
          + " reply's duplicated correlation line went, then the request's channel and a"
          + " success's status) and Parley's own message handling on both sides";
    }
    if (binding.startsWith("AMQP")) {
      return common
          + ". On AMQP 1.0 the embedded Artemis's journal sync of each persistent request"
          + " dominates (about 3.4 ms one in flight), and the spread between repetitions with it";
    }
    return common
        + ". On RabbitMQ (AMQP 0-9-1) the quorum queue's write to disk dominates (raw about 850"
        + " µs one in flight) and the spread between repetitions is wider than the goal";
  }

  static String springRequestReply() {
    return "not profiled yet (the peer was added with the delivery engine, issue 17); compare the"
        + " CPU and context-switch columns of the pair";
  }

  static String events(String transport) {
    String common =
        " Deliveries are no longer handed to a consumer worker (issue 17): the handler runs on the"
            + " subscription's handler pool, one hop per delivery, as the context-switch column"
            + " shows.";
    if (transport.startsWith("RabbitMQ")) {
      return "send side ≈ 3 µs CPU per message (UUIDv7 id, header map and wire headers, a"
          + " CompletableFuture per send, the confirm map), consume side 2–3 µs (the header"
          + " copy into a Message, the lane) — transports.md. Since 2026-12-05 an event has no"
          + " headers table at all (the channel, its last entry, no longer travels): 1.04× in a"
          + " driver of 10 interleaved rounds (0.97–1.85). A driver after its warm-up"
          + " (2026-12-03, 100,000 events a round): raw 12–20 µs of JVM CPU per event, Parley"
          + " 17–29 µs, 0.67–0.94 of raw's rate from round to round; perf puts about 70 % of the"
          + " handler threads' samples in the kernel (parking, waking, the ack's write) — the"
          + " raw consumer handles and acknowledges on amqp-client's dispatch thread, which"
          + " Parley leaves to code that declared itself non-blocking. The same driver (8 rounds"
          + " of 30,000 at 256 in flight, same day): Parley 1.11–1.44× raw's CPU per event with"
          + " its blocking handler and 1.16–1.19× with an AsyncMessageHandler (no hop; 0.45"
          + " switches per event like raw, against 1.0–1.2). A handler pool whose queue wakes"
          + " another worker only when a task waited over 100 µs (LinkedBlockingQueue wakes one on"
          + " every take with more behind it) cut the switches to 0.8–0.9 and the CPU ratio by"
          + " about 0.04, left request/reply where it was, and was not adopted: it bends what"
          + " 'concurrency N' promises for a small gain. Nor was one that keeps that promise"
          + " (2026-12-05): a hand-over wakes no thread while another is awake and about to look"
          + " (woken and not yet looking, or spinning before it parks), and a thread that takes a"
          + " task and leaves others behind with nobody looking wakes one more. Parley beside"
          + " Parley in one JVM, 16 interleaved rounds of 20,000 events at 256 in flight (once"
          + " without spinning, once spinning 5 µs):"
          + " 1.15 and 1.19 switches per event down to 0.89 and 0.91, CPU per event 0.93 and 0.95"
          + " of the plain pool's, rate 1.02 and 1.05; STOMP events and request/reply on both"
          + " brokers within the spread either way (8–16 rounds, the order swapped between"
          + " runs: 0.92–1.15 of the plain pool's CPU per call); idle threads spinning 20 µs or"
          + " more before they park spent what they saved (50 µs: 1.14–1.17× the CPU) — a few"
          + " percent on one row, not worth a concurrency primitive of Parley's own in every"
          + " subscription's path."
          + " The content-header guard (HeaderTableGuard, since 2026-12-06) costs nothing"
          + " measurable: Parley with it beside Parley without, 7 interleaved repetitions after"
          + " the full warm-up (2026-12-06), events 1.01 (0.92–1.46) of the rate without it at"
          + " 0.95 of its CPU per event, request/reply 0.96 (0.91–1.05) at the same CPU per call"
          + " (1.00)."
          + common;
    }
    if (transport.startsWith("STOMP")) {
      return "per event, a driver interleaving both in one JVM after its warm-up (2026-12-03,"
          + " 60,000 events a round): raw 28–40 µs of JVM CPU and 72–84 µs of broker CPU, Parley"
          + " 38–61 µs and 100–114 µs. The broker's part: RabbitMQ's STOMP plugin spends about"
          + " 3.5 µs per header line and Parley's SEND carries four more than the raw one (id,"
          + " type, channel, source; since 2026-12-05 id, type and source as the plugin's"
          + " properties, amqp-message-id, type and app-id, which cost it less than table"
          + " entries: the raw client with those four lines 0.90 and 0.93 of its plain rate,"
          + " with four parley-… lines 0.83 and 0.85; later that day the channel line went, which"
          + " a driver measured at 1.03×, 10 interleaved rounds); the broker also writes each"
          + " line back"
          + " into the MESSAGE"
          + " (a Python client, 2026-12-04, 3 rounds of 10,000 at 256 in flight into a queue:"
          + " +17 to +48 µs of broker CPU per message with those four lines, +18 with one line of"
          + " the same bytes, +28 to +66 with eight one-character lines — it is the lines, not"
          + " the bytes). An event goes through amq.topic to its group's queue where"
          + " the raw client sends straight into a queue, which costs nothing measurable (the raw"
          + " client both ways, 2026-12-04, 10 interleaved rounds of 5,000 events at 256 in"
          + " flight: through amq.topic 0.96 of the direct rate, 0.89–1.21; amqp-client through"
          + " a fanout exchange into the quorum queue 1.04, 0.88–1.12). The JVM's part: the hop"
          + " to the handler pool — perf puts about half of the handler threads' samples in futex"
          + " (parking and waking), where the raw client handles and acknowledges on its reader."
          + " Since 2026-12-05 frames are encoded into one array in one pass and header lines"
          + " parsed as bytes (a micro loop: a request's SEND 0.8 µs against 1.1, its MESSAGE"
          + " read about a tenth faster); end to end that is within the spread (request/reply,"
          + " 4 JVM runs each way alternating: 5,586 against 5,502 calls/s, runs ranging"
          + " 5,200–6,900)."
          + common;
    }
    return "Parley's AMQP transport receives on a loop of its own and settles each message"
        + " individually (INDIVIDUAL_ACKNOWLEDGE); raw JMS consumes on the dispatch thread with"
        + " auto-acknowledge. Since 2026-12-04 a blocking handler's settlement is made on its"
        + " handler thread instead of being handed to a settle thread (one switch fewer per"
        + " message): a driver with this pair, 20 rounds each, measured 0.83 and 0.88 against 0.80"
        + " and 0.84 before, Parley's CPU per event 1.19–1.26× raw's against 1.28×. Neither the"
        + " handler's hop nor the send thread is the rest (a driver, 2026-12-05, 7 rounds per"
        + " JVM run, runs alternating): an asynchronous handler (no hop) 0.77–0.84 against"
        + " 0.70–0.92 with the blocking one; sends made on the caller's thread instead of the"
        + " transport's send thread (an experiment, not kept) 0.81–0.97 against 0.79–0.92 — within"
        + " the spread between JVM runs, raw itself ranging 6,100–9,300 events/s. At the steady"
        + " rates of the longer warm-up (2026-12-05, about 13,500 events/s raw and 10,800"
        + " Parley, each side alone in a fresh JVM, JFR sampling every millisecond for 30 s"
        + " after 30 s of load): per 1,000 events 5.7 samples raw, 7.7 Parley — Artemis's"
        + " threads +0.8 (Parley's messages: the multicast address, the queue by its fully"
        + " qualified name, five application properties, four since the channel went later that"
        + " day, 1.01–1.06× in drivers; the raw client sending them ran at"
        + " 0.90 of itself in the same lab run), the threads running Parley's code +0.9 (its"
        + " own work spread thin: reading a message's properties into headers 0.2, the send"
        + " timeouts' ordered map 0.1, futures, header checks, acknowledgements from a loop"
        + " of its own), Qpid JMS's I/O thread +0.3. Nor is the failover provider that"
        + " Parley's transport connects through (to reconnect after a broker restart, which"
        + " the raw client does not): raw Qpid JMS through failover:(amqp://…) ran at 1.04"
        + " (0.70–1.46) of itself on amqp://, the same CPU per event (a driver, 2026-12-05, 20"
        + " interleaved rounds of 5,000 events at 256 in flight)."
        + common;
  }

  static String codec(String format, String op) {
    if (format.equals("thrift") && op.equals("decode")) {
      return "work libthrift does not do: Parley refuses strings that are not strict UTF-8 and"
          + " counts struct depth, and creates the struct through its reflected constructor. Until"
          + " 2026-12-06 it also copied the whole payload before reading it (+784 B/op: libthrift's"
          + " binary fields are views into what it reads) and validated every string in a pass of"
          + " its own; now only a binary field is copied and only a string the JDK's decoder"
          + " put a U+FFFD in is validated (this loop, formats section alone, before 0.73 and"
          + " +335 ns/op, after 0.90 and 0.87, +69 and +127 ns/op, +16 B/op); this loop's spread is"
          + " wider than JMH's";
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

  /**
   * The RabbitMQ events p50 at a fixed rate: where 50 % of raw's maximum falls on the quorum
   * queue's latency curve on 2 shared vCPUs, with the measured gap at lower rates.
   */
  static String eventsAtFixedRate() {
    return "not a constant cost per event but the rate's place on the curve: 50 % of raw's"
        + " maximum is where the quorum queue's own latency turns up on 2 vCPUs shared with"
        + " RabbitMQ, and Parley spends more CPU per event (the row above), so at the same rate it"
        + " sits higher on that curve; between repetitions the gap ranges from below zero to"
        + " milliseconds. A driver (2026-12-06: this lab's events pair with open loops at 10, 25"
        + " and 50 % of raw's maximum, 7 interleaved repetitions each, after the full warm-up)"
        + " measured raw's p50 at 963, 1,748 and 4,391 µs and Parley's gap at +34 µs (−105 to"
        + " +262), +65 µs (+11 to +319) and −80 µs (−544,308 to +640: one repetition where raw"
        + " itself queued for half a second); the same pair with an AsyncMessageHandler (no hop)"
        + " −177 µs at 10 % and +34 µs at 25 %, while at 50 % of its raw side's higher maximum"
        + " in that run (9,471 events/s against 8,460) both sides queued (p50 raw 25 ms, Parley"
        + " 80 ms). What is left at low rates is the hop to the handler pool and Parley's"
        + " per-event work (the rows above)";
  }

  /**
   * An open-loop p99 goal missed. The rate is a share of the raw side's maximum, so where Parley's
   * own maximum is lower the same rate loads it more: queueing delay grows as the load nears the
   * maximum and without bound past it. Computed from the pair's closed-loop ratio in the same run.
   */
  static String openLoop(int percent, double throughputRatio) {
    double load = percent / 100.0 / throughputRatio;
    if (throughputRatio >= 1) {
      return String.format(
          java.util.Locale.ROOT,
          "not a throughput gap: Parley's maximum is above raw's (%.2f of raw's in the closed"
              + " loop of this run), so at %d %% of raw's maximum it runs at about %.0f %% of its"
              + " own; on 2 vCPUs shared with the broker the tail is bimodal (unpinned), and the"
              + " spread between repetitions is wider than the goal",
          throughputRatio,
          percent,
          load * 100);
    }
    if (load >= 1) {
      return String.format(
          java.util.Locale.ROOT,
          "the rate is %d %% of raw's maximum and above Parley's own (%.2f of raw's in the"
              + " closed loop of this run), so Parley's queue grows for the whole 1.5 s and its"
              + " latency with it: the throughput gap of the row above, seen as latency",
          percent,
          throughputRatio);
    }
    return String.format(
        java.util.Locale.ROOT,
        "at %d %% of raw's maximum Parley runs at about %.0f %% of its own (%.2f of raw's in the"
            + " closed loop of this run) where raw runs at %d %%: queueing delay grows as the"
            + " load nears the maximum, so the p99 gap follows the throughput gap of the row"
            + " above; on 2 vCPUs shared with the broker the tail is also bimodal (unpinned)",
        percent,
        load * 100,
        throughputRatio,
        percent);
  }
}
