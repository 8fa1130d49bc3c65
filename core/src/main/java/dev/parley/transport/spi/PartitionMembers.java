package dev.parley.transport.spi;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The member protocol that shares a partitioned group's partitions out among its members through
 * the broker alone (documented in {@code docs/wire.md}): every member announces {@code hello <id>}
 * each heartbeat and {@code bye <id>} when it leaves; a member not heard for three heartbeats is
 * dropped; with the live ids sorted, member {@code i} of {@code n} owns the partitions {@code p}
 * with {@code p % n == i}. Transports carry the announcements; this class keeps the table.
 * Thread-safe.
 */
public final class PartitionMembers {

  private final int partitions;
  private final long expiryNanos;
  private final LongSupplier nanoTime;
  private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();

  /** The partitions each member said it holds in its latest {@code holds}. */
  private final Map<String, Set<Integer>> holding = new ConcurrentHashMap<>();

  /**
   * What members dropped for their silence last said they hold, while the broker may still hold
   * their unacknowledged messages ({@link #silentHoldNanos} after they were last heard).
   */
  private final Map<String, SilentHold> silentHolds = new ConcurrentHashMap<>();

  private record SilentHold(Set<Integer> partitions, long lastHeard) {}

  private final long silentHoldNanos;

  public PartitionMembers(int partitions, Duration heartbeat) {
    this(partitions, heartbeat, Duration.ZERO);
  }

  /**
   * @param silentHold how long after a member was last heard the broker may still hold the messages
   *     it had not acknowledged, its connection open though nothing comes through (a network
   *     partition): a member dropped for its silence keeps its partitions held that long ({@link
   *     #heldByOther}); zero where the broker itself keeps two consumers of a partition apart
   */
  public PartitionMembers(int partitions, Duration heartbeat, Duration silentHold) {
    this(partitions, heartbeat, silentHold, System::nanoTime);
  }

  PartitionMembers(int partitions, Duration heartbeat, Duration silentHold, LongSupplier nanoTime) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions: " + partitions + " (expected: > 0)");
    }
    this.partitions = partitions;
    this.expiryNanos = heartbeat.toNanos() * 3;
    this.silentHoldNanos = silentHold.toNanos();
    this.nanoTime = nanoTime;
  }

  /** The announcement that member {@code id} is alive. */
  public static byte[] hello(String id) {
    return ("hello " + id).getBytes(StandardCharsets.US_ASCII);
  }

  /** The announcement that member {@code id} leaves. */
  public static byte[] bye(String id) {
    return ("bye " + id).getBytes(StandardCharsets.US_ASCII);
  }

  /** The announcement that member {@code id} consumes {@code partitions} now. */
  public static byte[] holds(String id, Collection<Integer> partitions) {
    StringBuilder b = new StringBuilder("holds ").append(id);
    for (Integer p : new TreeSet<>(partitions)) {
      b.append(' ').append(p);
    }
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Takes in an announcement.
   *
   * @return whether the membership changed (a member joined or left), so a rebalance is due now
   */
  public boolean heard(byte[] announcement) {
    String text = new String(announcement, StandardCharsets.US_ASCII);
    int space = text.indexOf(' ');
    if (space < 0) {
      return false;
    }
    String verb = text.substring(0, space);
    String member = text.substring(space + 1);
    if (verb.equals("bye")) {
      holding.remove(member);
      silentHolds.remove(member); // it let go of everything before it said goodbye
      return lastSeen.remove(member) != null;
    }
    if (verb.equals("hello")) {
      silentHolds.remove(member); // heard again: its own holds say what it consumes
      return lastSeen.put(member, nanoTime.getAsLong()) == null;
    }
    if (verb.equals("holds")) {
      heardHolds(member);
    }
    return false;
  }

  /** {@code <id> <p> <p> …}; an announcement that does not read so is ignored. */
  private void heardHolds(String text) {
    String[] parts = text.split(" ");
    if (parts.length > partitions + 1 || parts[0].isEmpty()) {
      return;
    }
    Set<Integer> held = new TreeSet<>();
    for (int i = 1; i < parts.length; i++) {
      int p;
      try {
        p = Integer.parseInt(parts[i]);
      } catch (NumberFormatException e) {
        return;
      }
      if (p < 0 || p >= partitions) {
        return;
      }
      held.add(p);
    }
    holding.put(parts[0], Set.copyOf(held));
  }

  /**
   * Whether a member other than {@code local} said, in its latest {@code holds}, that it consumes
   * {@code partition}: a live member, or one dropped for its silence less than the silent hold ago
   * (the broker may still hold its messages). Valid after {@link #assign}, which drops silent
   * members.
   */
  public boolean heldByOther(int partition, Collection<String> local) {
    for (Map.Entry<String, Set<Integer>> e : holding.entrySet()) {
      if (e.getValue().contains(partition)
          && !local.contains(e.getKey())
          && lastSeen.containsKey(e.getKey())) {
        return true;
      }
    }
    long now = nanoTime.getAsLong();
    silentHolds.values().removeIf(h -> now - h.lastHeard() >= silentHoldNanos);
    for (Map.Entry<String, SilentHold> e : silentHolds.entrySet()) {
      if (e.getValue().partitions().contains(partition) && !local.contains(e.getKey())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The partitions each of {@code local} owns now: local members count as alive, members silent for
   * three heartbeats are dropped first.
   */
  public Map<String, Set<Integer>> assign(Collection<String> local) {
    long now = nanoTime.getAsLong();
    for (String id : local) {
      lastSeen.put(id, now);
    }
    lastSeen
        .entrySet()
        .removeIf(
            e -> {
              if (now - e.getValue() <= expiryNanos) {
                return false;
              }
              Set<Integer> held = holding.get(e.getKey());
              if (silentHoldNanos > 0 && held != null && !held.isEmpty()) {
                silentHolds.put(e.getKey(), new SilentHold(held, e.getValue()));
              }
              return true;
            });
    holding.keySet().removeIf(id -> !lastSeen.containsKey(id));
    List<String> ids = new ArrayList<>(new TreeSet<>(lastSeen.keySet()));
    Map<String, Set<Integer>> owned = new HashMap<>();
    for (String id : local) {
      int index = ids.indexOf(id);
      Set<Integer> mine = new TreeSet<>();
      for (int p = 0; p < partitions; p++) {
        if (p % ids.size() == index) {
          mine.add(p);
        }
      }
      owned.put(id, mine);
    }
    return owned;
  }

  /** Members alive as of the last {@link #assign}, local ones included. */
  public int size() {
    return lastSeen.size();
  }
}
