/**
 * XML codec on Jackson XML, hardened against XXE and entity expansion: {@link
 * dev.parley.codec.xml.XmlCodec}.
 */
package dev.parley.codec.xml;
