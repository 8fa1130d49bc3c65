package dev.parley.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MessageIdsTest {

  @Test
  void encodesTheClockTime() {
    Clock clock = Clock.fixed(Instant.ofEpochMilli(1_764_000_000_123L), ZoneOffset.UTC);

    String id = MessageIds.next(clock);

    assertThat(MessageIds.timestampOf(id)).isEqualTo(1_764_000_000_123L);
  }

  @Test
  void laterIdsSortAfterEarlierOnes() {
    String earlier = MessageIds.next(Clock.fixed(Instant.ofEpochMilli(1000), ZoneOffset.UTC));
    String later = MessageIds.next(Clock.fixed(Instant.ofEpochMilli(1001), ZoneOffset.UTC));

    assertThat(later).isGreaterThan(earlier);
  }

  @Test
  void idsAreUniqueWithinOneMillisecond() {
    Clock clock = Clock.fixed(Instant.ofEpochMilli(5), ZoneOffset.UTC);
    Set<String> ids = new HashSet<>();

    for (int i = 0; i < 10_000; i++) {
      ids.add(MessageIds.next(clock));
    }

    assertThat(ids).hasSize(10_000);
  }

  @Test
  void idsFromManyThreadsInOneMillisecondAreUnique() throws Exception {
    Clock clock = Clock.fixed(Instant.ofEpochMilli(5), ZoneOffset.UTC);
    Set<String> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
    java.util.List<Thread> threads = new java.util.ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread =
          new Thread(
              () -> {
                for (int i = 0; i < 5_000; i++) {
                  ids.add(MessageIds.next(clock));
                }
              });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join(10_000);
    }

    assertThat(ids).hasSize(40_000);
  }

  @Test
  void refusesNonV7Ids() {
    assertThatThrownBy(() -> MessageIds.timestampOf(java.util.UUID.randomUUID().toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected: a UUIDv7");
  }
}
