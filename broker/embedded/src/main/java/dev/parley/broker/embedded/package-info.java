/**
 * Apache Artemis in-process for zero-configuration runs and tests: start with {@link
 * dev.parley.broker.embedded.EmbeddedBroker}.
 */
package dev.parley.broker.embedded;
