/**
 * Machine-readable contracts generated from the one {@link dev.parley.operation.Operation} model:
 * {@link dev.parley.rpc.contract.OpenApi} (OpenAPI 3.1 for the REST bindings) and the JSON Schemas
 * of the types operations and channels carry ({@link dev.parley.rpc.contract.JsonSchemas}).
 */
package dev.parley.rpc.contract;
