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
  private final PartitionMembers members = new PartitionMembers(8, Duration.ofSeconds(1), now::get);

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
}
