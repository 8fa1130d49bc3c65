/**
 * Parley's own plumbing shared between its packages. Not API: anything here may change without
 * notice.
 */
package dev.parley.internal;
