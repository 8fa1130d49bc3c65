/**
 * One error model: a {@link dev.parley.error.Status} (code, stable error code, message) and
 * unchecked exceptions under {@link dev.parley.error.ParleyException}, split by what the caller can
 * do next.
 */
package dev.parley.error;
