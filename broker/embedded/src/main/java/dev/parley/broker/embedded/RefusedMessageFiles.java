package dev.parley.broker.embedded;

import org.apache.activemq.artemis.api.core.Message;
import org.apache.activemq.artemis.core.server.LargeServerMessage;
import org.apache.activemq.artemis.core.server.ServerSession;
import org.apache.activemq.artemis.core.server.plugin.ActiveMQServerMessagePlugin;
import org.apache.activemq.artemis.core.transaction.Transaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the file of a large message whose send the broker refused. Artemis writes a large
 * message's body to a file as it arrives and deletes the file when the message's last reference
 * goes; a message refused before any queue took it (a sender without permission for the address)
 * never had one, so each refusal left its whole body on disk for good — a sender refused again and
 * again would fill it. Only a large message no queue references is touched, and only in {@code
 * onSendException}: this plugin reads no message that the broker accepted. Thread-safe.
 */
final class RefusedMessageFiles implements ActiveMQServerMessagePlugin {

  private static final Logger log = LoggerFactory.getLogger(RefusedMessageFiles.class);

  @Override
  public void onSendException(
      ServerSession session,
      Transaction tx,
      Message message,
      boolean direct,
      boolean noAutoCreateQueue,
      Exception e) {
    if (message instanceof LargeServerMessage large && message.getRefCount() == 0) {
      try {
        large.deleteFile();
      } catch (Exception failure) {
        log.debug("could not delete a refused large message's file", failure);
      }
    }
  }
}
