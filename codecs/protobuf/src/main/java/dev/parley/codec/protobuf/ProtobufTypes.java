package dev.parley.codec.protobuf;

import com.google.protobuf.Message;
import dev.parley.codec.CodecException;
import java.lang.reflect.Method;

/** Finds (once per class) the default instance of a generated message class. */
final class ProtobufTypes {

  private static final ClassValue<Message> DEFAULTS =
      new ClassValue<>() {
        @Override
        protected Message computeValue(Class<?> type) {
          try {
            Method method = type.getMethod("getDefaultInstance");
            return (Message) method.invoke(null);
          } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalArgumentException(
                type.getName() + " is not a generated protobuf message", e);
          }
        }
      };

  private ProtobufTypes() {}

  static boolean isMessage(Class<?> type) {
    return Message.class.isAssignableFrom(type) && type != Message.class;
  }

  static Message defaultInstance(Class<?> type) {
    if (!isMessage(type)) {
      throw new CodecException(
          CodecException.UNENCODABLE, type.getName() + " is not a protobuf message");
    }
    return DEFAULTS.get(type);
  }
}
