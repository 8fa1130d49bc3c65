/**
 * API-first request/response: an {@link dev.parley.operation.Operation} describes one call
 * (service, name, input and output types, idempotency); an {@link
 * dev.parley.operation.OperationHandler} serves it. The same pair is served and called over REST,
 * gRPC (module {@code parley-rpc}) or messaging ({@link
 * dev.parley.messaging.Messaging#serve(Operation, OperationHandler)}): which one is configuration.
 */
package dev.parley.operation;
