package dev.parley.policy;

/**
 * A snapshot of a {@link Policy}'s counters.
 *
 * @param calls calls that entered the pipeline
 * @param attempts attempts made, first attempts included
 * @param retries retries granted
 * @param retriesRefused retries the retry budget refused
 * @param circuitOpen attempts refused by the open circuit
 * @param rateLimited attempts refused by the rate limit
 * @param bulkheadFull attempts refused by the bulkhead
 * @param deadlineExceeded calls that ended at their deadline
 */
public record PolicyMetrics(
    long calls,
    long attempts,
    long retries,
    long retriesRefused,
    long circuitOpen,
    long rateLimited,
    long bulkheadFull,
    long deadlineExceeded) {}
