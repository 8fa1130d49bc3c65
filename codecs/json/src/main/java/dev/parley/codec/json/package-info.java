/** JSON codec on Jackson with safe defaults: start with {@link dev.parley.codec.json.JsonCodec}. */
package dev.parley.codec.json;
