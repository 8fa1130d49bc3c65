package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PartitionMembersTest {

  private final AtomicLong now = new AtomicLong();
  private final PartitionMembers members =
      new PartitionMembers(8, Duration.ofSeconds(1), Duration.ZERO, now::get);

  @Test
  void aLoneMemberOwnsEveryPartition() {
    assertThat(members.assign(List.of("b"))).isEqualTo(Map.of("b", Set.of(0, 1, 2, 3, 4, 5, 6, 7)));
  }

  @Test
  void sortedIdsShareThePartitionsModuloTheirCount() {
    assertThat(members.heard(PartitionMembers.hello("a"))).isTrue();
    assertThat(members.heard(PartitionMembers.hello("a"))).as("already known").isFalse();
    assertThat(members.heard(PartitionMembers.hello("c"))).isTrue();

    // a, b, c: b is index 1 of 3
    assertThat(members.assign(List.of("b"))).isEqualTo(Map.of("b", Set.of(1, 4, 7)));
  }

  @Test
  void aMemberLeavesWithByeOrAfterThreeSilentHeartbeats() {
    members.heard(PartitionMembers.hello("a"));
    members.heard(PartitionMembers.hello("c"));
    assertThat(members.heard(PartitionMembers.bye("c"))).isTrue();
    assertThat(members.assign(List.of("b"))).isEqualTo(Map.of("b", Set.of(1, 3, 5, 7)));

    now.addAndGet(Duration.ofSeconds(3).toNanos()); // a: exactly three heartbeats, still in
    assertThat(members.assign(List.of("b")).get("b")).containsExactly(1, 3, 5, 7);
    now.addAndGet(1); // a: silent for longer than three heartbeats
    assertThat(members.assign(List.of("b")).get("b")).hasSize(8);
    assertThat(members.size()).isEqualTo(1);
  }

  @Test
  void ignoresWhatIsNotAnAnnouncement() {
    assertThat(members.heard("nonsense".getBytes())).isFalse();
    assertThat(members.heard("wave x".getBytes())).isFalse();
    assertThat(members.assign(List.of("b")).get("b")).hasSize(8);
  }

  @Test
  void aMembersLatestHoldsSaysWhatItStillConsumesUntilItLeavesOrFallsSilent() {
    assertThat(new String(PartitionMembers.holds("a", List.of(5, 1)))).isEqualTo("holds a 1 5");
    members.heard(PartitionMembers.hello("a"));
    assertThat(members.heard(PartitionMembers.holds("a", List.of(1, 5))))
        .as("not a change of members")
        .isFalse();
    members.assign(List.of("b"));
    assertThat(members.heldByOther(5, List.of("b"))).isTrue();
    assertThat(members.heldByOther(2, List.of("b"))).isFalse();
    assertThat(members.heldByOther(5, List.of("a", "b"))).as("a local member").isFalse();

    members.heard(PartitionMembers.holds("a", List.of(1)));
    assertThat(members.heldByOther(5, List.of("b"))).as("the latest counts").isFalse();
    assertThat(members.heldByOther(1, List.of("b"))).isTrue();

    now.addAndGet(Duration.ofSeconds(4).toNanos()); // a: silent
    members.assign(List.of("b"));
    assertThat(members.heldByOther(1, List.of("b"))).isFalse();

    members.heard(PartitionMembers.hello("c"));
    members.heard(PartitionMembers.holds("c", List.of(3)));
    members.heard(PartitionMembers.bye("c"));
    assertThat(members.heldByOther(3, List.of("b"))).isFalse();
  }

  @Test
  void aHoldsThatDoesNotReadIsIgnored() {
    members.heard(PartitionMembers.hello("a"));
    for (String bad :
        List.of(
            "holds",
            "holds ",
            "holds a x",
            "holds a 8",
            "holds a -1",
            "holds a 1 2 3 4 5 6 7 0 1")) {
      assertThat(members.heard(bad.getBytes())).as(bad).isFalse();
    }
    members.assign(List.of("b"));
    for (int p = 0; p < 8; p++) {
      assertThat(members.heldByOther(p, List.of("b"))).isFalse();
    }
  }

  /**
   * A member dropped for its silence may still hold its messages at the broker (a network partition
   * keeps its connection open until the broker gives up on it): what it last said it holds stays
   * held for the silent hold after it was last heard, unless it speaks again or says goodbye.
   */
  @Test
  void aMemberDroppedForItsSilenceHoldsItsPartitionsForTheSilentHold() {
    PartitionMembers withHold =
        new PartitionMembers(8, Duration.ofSeconds(1), Duration.ofSeconds(8), now::get);
    withHold.heard(PartitionMembers.hello("a"));
    withHold.heard(PartitionMembers.holds("a", List.of(0, 2)));
    withHold.heard(PartitionMembers.hello("c"));
    withHold.heard(PartitionMembers.holds("c", List.of(4)));

    now.addAndGet(Duration.ofSeconds(3).toNanos() + 1); // a and c fall silent: dropped
    assertThat(withHold.assign(List.of("b")).get("b")).hasSize(8);
    assertThat(withHold.heldByOther(0, List.of("b")))
        .as("a's, its messages maybe at the broker")
        .isTrue();
    assertThat(withHold.heldByOther(4, List.of("b"))).isTrue();
    assertThat(withHold.heldByOther(1, List.of("b"))).as("nobody's").isFalse();

    withHold.heard(PartitionMembers.hello("c")); // c speaks again: its own holds count from now
    withHold.heard(PartitionMembers.holds("c", List.of()));
    assertThat(withHold.heldByOther(4, List.of("b"))).isFalse();

    now.addAndGet(Duration.ofSeconds(5).toNanos() - 2); // a: last heard just under 8 s ago
    assertThat(withHold.heldByOther(2, List.of("b"))).isTrue();
    now.addAndGet(1); // 8 s: the broker has given its messages back
    assertThat(withHold.heldByOther(0, List.of("b"))).isFalse();
    assertThat(withHold.heldByOther(2, List.of("b"))).isFalse();

    // Without a silent hold (the broker keeps consumers apart) a silent member holds nothing.
    members.heard(PartitionMembers.hello("a"));
    members.heard(PartitionMembers.holds("a", List.of(0)));
    now.addAndGet(Duration.ofSeconds(3).toNanos() + 1);
    members.assign(List.of("b"));
    assertThat(members.heldByOther(0, List.of("b"))).isFalse();
  }

  /** A member that says goodbye gave its partitions up first: nothing stays held. */
  @Test
  void aMemberThatSaysGoodbyeHoldsNothingAfterwards() {
    PartitionMembers withHold =
        new PartitionMembers(8, Duration.ofSeconds(1), Duration.ofSeconds(8), now::get);
    withHold.heard(PartitionMembers.hello("a"));
    withHold.heard(PartitionMembers.holds("a", List.of(0)));
    now.addAndGet(Duration.ofSeconds(3).toNanos() + 1);
    withHold.assign(List.of("b"));
    withHold.heard(PartitionMembers.bye("a"));
    assertThat(withHold.heldByOther(0, List.of("b"))).isFalse();
  }
}
