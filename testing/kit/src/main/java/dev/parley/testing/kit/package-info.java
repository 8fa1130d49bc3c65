/**
 * JUnit 5 helpers for testing services built on Parley: {@link
 * dev.parley.testing.kit.EmbeddedBrokerExtension} runs a real broker on loopback, {@link
 * dev.parley.testing.kit.RecordingHandler} records and scripts handler calls.
 */
package dev.parley.testing.kit;
