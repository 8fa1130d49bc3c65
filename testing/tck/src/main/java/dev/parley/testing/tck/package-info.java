/**
 * Abstract conformance suites: every transport extends {@link dev.parley.testing.tck.TransportTck}
 * in a test class whose name contains {@code Tck}.
 */
package dev.parley.testing.tck;
