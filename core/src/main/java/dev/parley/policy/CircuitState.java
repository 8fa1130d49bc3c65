package dev.parley.policy;

/** The state of a {@link Policy}'s circuit breaker. */
public enum CircuitState {
  /** Calls flow; failures are counted. */
  CLOSED,
  /** Calls are refused until the open period ends. */
  OPEN,
  /** A configured number of probe calls decide whether to close or open again. */
  HALF_OPEN,
  /** The policy has no circuit breaker. */
  DISABLED
}
