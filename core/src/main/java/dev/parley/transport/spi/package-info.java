/**
 * For transport implementers: {@link dev.parley.transport.spi.Transport} moves messages between the
 * application and a broker; {@link dev.parley.transport.spi.Destination} names where. Every
 * transport passes the abstract {@code TransportTck} in {@code parley-testing-tck}.
 */
package dev.parley.transport.spi;
