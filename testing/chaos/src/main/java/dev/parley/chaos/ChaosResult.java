package dev.parley.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What an M1 run did and what its checker found.
 *
 * @param written business transactions attempted (one event each)
 * @param relayed sends the relays had confirmed by the broker (resends after a kill count twice)
 * @param applied ledger rows (a duplicate effect would be a second row)
 * @param outboxBacklog rows still unsent at the end
 * @param producerReconnects the evidence of broker kills: reconnects of the producer's own
 *     connection, or on a cluster the killed nodes seen down and then back ({@code killEvidence}
 *     names which)
 * @param killEvidence what {@code producerReconnects} counts
 * @param consumerConnectionsCut killed consumers that had connected before their kill (evidence)
 * @param redeliveries deliveries beyond the first of each message, as the consumers saw them
 * @param dedupHits duplicates the inbox recognised and skipped
 * @param deadLettered deliveries the consumers dead-lettered: none is expected, as every M1 message
 *     is well-formed and its handler succeeds once the database answers — one is a delivery the
 *     broker or a transport spoiled, and the message it stood for is applied only if another copy
 *     came (a run can look clean without this count)
 */
public record ChaosResult(
    ChaosM1.Config config,
    String brokerName,
    long written,
    long committed,
    long rolledBack,
    long relayed,
    long applied,
    long lost,
    long duplicate,
    long ghost,
    long orderViolations,
    long outboxBacklog,
    int brokerRestarts,
    long producerReconnects,
    String killEvidence,
    int consumerKills,
    long consumerConnectionsCut,
    int relayKills,
    long redeliveries,
    long dedupHits,
    long deadLettered,
    Duration elapsed) {

  /** Why this run is not clean; empty when it is. */
  public List<String> problems() {
    List<String> p = new ArrayList<>();
    if (lost > 0) {
      p.add(lost + " committed message(s) lost");
    }
    if (duplicate > 0) {
      p.add(duplicate + " message(s) applied more than once");
    }
    if (ghost > 0) {
      p.add(ghost + " ghost(s): effects of rolled-back or unknown messages");
    }
    if (orderViolations > 0) {
      p.add(orderViolations + " per-key order violation(s)");
    }
    if (outboxBacklog > 0) {
      p.add(outboxBacklog + " outbox row(s) never sent");
    }
    if (deadLettered > 0) {
      p.add(
          deadLettered
              + " delivery(ies) dead-lettered by the consumers (no M1 message is bad input)");
    }
    if (written != config.messages()) {
      p.add("only " + written + " of " + config.messages() + " transactions written");
    }
    if (rolledBack == 0) {
      p.add("no business transaction was rolled back (evidence missing)");
    }
    if (brokerRestarts != config.brokerKills() || producerReconnects < config.brokerKills()) {
      p.add(
          "broker kills: planned "
              + config.brokerKills()
              + ", done "
              + brokerRestarts
              + ", "
              + killEvidence
              + " "
              + producerReconnects
              + " (evidence missing)");
    }
    if (consumerKills != config.consumerKills() || consumerConnectionsCut < consumerKills) {
      p.add(
          "consumer kills: planned "
              + config.consumerKills()
              + ", done "
              + consumerKills
              + ", of which had connected "
              + consumerConnectionsCut
              + " (evidence missing)");
    }
    if (relayKills != config.relayKills()) {
      p.add("relay kills: planned " + config.relayKills() + ", done " + relayKills);
    }
    return p;
  }

  public boolean clean() {
    return problems().isEmpty();
  }

  /** The result as a two-column Markdown table. */
  public String table() {
    StringBuilder t = new StringBuilder();
    t.append("| M1 | ").append(clean() ? "clean" : "NOT CLEAN").append(" |\n");
    t.append("|---|---:|\n");
    row(t, "broker", brokerName);
    row(t, "database", config.database().toString().toLowerCase(java.util.Locale.ROOT));
    row(t, "seed", config.seed());
    row(t, "keys", config.keys());
    row(t, "written (transactions)", written);
    row(t, "committed", committed);
    row(t, "rolled back", rolledBack);
    row(t, "sent by the relays (confirmed)", relayed);
    row(t, "applied", applied);
    row(t, "lost", lost);
    row(t, "duplicate", duplicate);
    row(t, "ghost", ghost);
    row(t, "order violations", orderViolations);
    row(t, "outbox backlog at the end", outboxBacklog);
    row(
        t,
        "broker restarts (kill -9)",
        brokerRestarts + " (" + killEvidence + " " + producerReconnects + ")");
    row(
        t,
        "consumer kills",
        consumerKills + " (victims that had connected: " + consumerConnectionsCut + ")");
    row(t, "relay kills", relayKills);
    row(t, "redeliveries", redeliveries);
    row(t, "dedup hits", dedupHits);
    row(t, "dead-lettered by the consumers", deadLettered);
    row(t, "elapsed", elapsed.toSeconds() + " s");
    return t.toString();
  }

  private static void row(StringBuilder t, String name, Object value) {
    t.append("| ").append(name).append(" | ").append(value).append(" |\n");
  }
}
