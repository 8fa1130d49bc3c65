/**
 * One resilience model for every interaction: a {@link dev.parley.policy.Policy} composes a
 * deadline, retries under a budget, a circuit breaker, a rate limit and a bulkhead in one fixed
 * order, and guards RPC calls, publishes and consumers alike.
 *
 * <p>Start here: {@link dev.parley.policy.Policy#builder()}, {@link
 * dev.parley.policy.Policy#describe()}, {@link dev.parley.policy.Deadline}.
 */
package dev.parley.policy;
