package dev.parley.messaging;

import dev.parley.message.Message;

/** Receives dead letters as raw messages, error headers included. */
@FunctionalInterface
public interface DeadLetterHandler {

  void handle(Message deadLetter) throws Exception;
}
