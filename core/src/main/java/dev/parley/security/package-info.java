/**
 * Who calls: the {@link dev.parley.security.Identity} a server established for a caller (from a
 * client certificate or a verified token) and the {@link dev.parley.security.Access} rules that say
 * which identities may call which operations. Transports and servers authenticate; these types are
 * what they agree on.
 *
 * <p>Start here: {@link dev.parley.security.Access#builder()}.
 */
package dev.parley.security;
