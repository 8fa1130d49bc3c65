package dev.parley.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.rpc.contract.ProtoSchemas;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Protobuf binary for records, with the descriptors {@link ProtoSchemas} derives: what an {@code
 * application/grpc} call of a record operation carries, so a client compiled from the served {@code
 * .proto} in any language reads and writes it. Hostile input fails with {@link CodecException}
 * ({@code parley.codec.malformed}): bytes that do not parse, nesting beyond 100 levels, an enum
 * number the Java enum does not have, a string that is not a valid {@code BigDecimal}/{@code UUID}.
 */
final class RecordProtobufCodec implements Codec {

  static final String CONTENT_TYPE = "application/grpc+proto";

  private final Map<Class<?>, Descriptors.Descriptor> messages;
  private final Map<Class<?>, Mapping> mappings = new ConcurrentHashMap<>();

  private RecordProtobufCodec(Map<Class<?>, Descriptors.Descriptor> messages) {
    this.messages = messages;
  }

  /**
   * The codec of {@code types} (records of one derived file), or empty when one of them has no
   * Protobuf mapping.
   */
  static Optional<RecordProtobufCodec> of(
      Descriptors.FileDescriptor file, Collection<Class<?>> types) {
    Map<Class<?>, Descriptors.Descriptor> messages = new ConcurrentHashMap<>();
    for (Class<?> type : types) {
      if (!type.isRecord()) {
        return Optional.empty();
      }
      Descriptors.Descriptor d = file.findMessageTypeByName(ProtoSchemas.messageName(type));
      if (d == null) {
        return Optional.empty();
      }
      messages.put(type, d);
    }
    return Optional.of(new RecordProtobufCodec(messages));
  }

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  @Override
  public boolean supports(Class<?> type) {
    return messages.containsKey(type);
  }

  @Override
  public byte[] encode(Object value) {
    Descriptors.Descriptor d = descriptor(value.getClass());
    try {
      return toMessage(value, d).toByteArray();
    } catch (RuntimeException e) {
      throw new CodecException(
          CodecException.UNENCODABLE,
          value.getClass().getSimpleName() + " as Protobuf: " + e.getMessage(),
          e);
    }
  }

  @Override
  public <T> T decode(byte[] bytes, Class<T> type) {
    Descriptors.Descriptor d = descriptor(type);
    DynamicMessage message;
    try {
      message = DynamicMessage.parseFrom(d, bytes);
    } catch (InvalidProtocolBufferException e) {
      throw malformed(
          type.getSimpleName() + ": not a valid Protobuf message (" + e.getMessage() + ")");
    }
    return type.cast(fromMessage(message, type));
  }

  private Descriptors.Descriptor descriptor(Class<?> type) {
    Descriptors.Descriptor d = messages.get(type);
    if (d == null) {
      throw new CodecException(
          CodecException.UNENCODABLE, type.getName() + ": not a record of this service");
    }
    return d;
  }

  // ---- records to messages ----

  private DynamicMessage toMessage(Object record, Descriptors.Descriptor d) {
    Mapping mapping = mapping(record.getClass(), d);
    DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
    for (int i = 0; i < mapping.fields.length; i++) {
      FieldDescriptor f = mapping.fields[i];
      Object value = mapping.get(i, record);
      Type type = mapping.types[i];
      if (value instanceof Optional<?> o) {
        value = o.orElse(null);
        type = ((ParameterizedType) type).getActualTypeArguments()[0];
      }
      if (value == null) {
        continue;
      }
      if (f.isMapField()) {
        Type valueType = ((ParameterizedType) type).getActualTypeArguments()[1];
        Descriptors.Descriptor entry = f.getMessageType();
        FieldDescriptor keyField = entry.findFieldByNumber(1);
        FieldDescriptor valueField = entry.findFieldByNumber(2);
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
          if (e.getKey() == null || e.getValue() == null) {
            throw new IllegalArgumentException(f.getName() + ": null map key or value");
          }
          b.addRepeatedField(
              f,
              DynamicMessage.newBuilder(entry)
                  .setField(keyField, e.getKey())
                  .setField(valueField, toValue(valueField, valueType, e.getValue()))
                  .build());
        }
      } else if (f.isRepeated()) {
        Type elementType = elementType(type);
        for (Object element : (Collection<?>) value) {
          if (element == null) {
            throw new IllegalArgumentException(f.getName() + ": null element");
          }
          b.addRepeatedField(f, toValue(f, elementType, element));
        }
      } else {
        b.setField(f, toValue(f, type, value));
      }
    }
    return b.build();
  }

  private Object toValue(FieldDescriptor f, Type type, Object value) {
    return switch (f.getJavaType()) {
      case INT -> ((Number) value).intValue();
      case LONG -> ((Number) value).longValue();
      case FLOAT -> ((Number) value).floatValue();
      case DOUBLE -> ((Number) value).doubleValue();
      case BOOLEAN -> value;
      case STRING -> value instanceof BigDecimal bd ? bd.toString() : value.toString();
      case BYTE_STRING -> ByteString.copyFrom((byte[]) value);
      case ENUM -> f.getEnumType().findValueByNumber(((Enum<?>) value).ordinal());
      case MESSAGE -> {
        if (value instanceof Message generated) {
          yield generated;
        }
        if (value instanceof Instant at) {
          Descriptors.Descriptor ts = f.getMessageType();
          yield DynamicMessage.newBuilder(ts)
              .setField(ts.findFieldByName("seconds"), at.getEpochSecond())
              .setField(ts.findFieldByName("nanos"), at.getNano())
              .build();
        }
        yield toMessage(value, f.getMessageType());
      }
    };
  }

  // ---- messages to records ----

  private Object fromMessage(Message message, Class<?> type) {
    Mapping mapping = mapping(type, message.getDescriptorForType());
    Object[] args = new Object[mapping.fields.length];
    for (int i = 0; i < args.length; i++) {
      FieldDescriptor f = mapping.fields[i];
      Type t = mapping.types[i];
      boolean optional = t instanceof ParameterizedType p && p.getRawType() == Optional.class;
      Type valueType = optional ? ((ParameterizedType) t).getActualTypeArguments()[0] : t;
      Object value;
      if (f.isMapField()) {
        Type vt = ((ParameterizedType) t).getActualTypeArguments()[1];
        Map<String, Object> map = new LinkedHashMap<>();
        for (Object e : (List<?>) message.getField(f)) {
          Message entry = (Message) e;
          Descriptors.Descriptor ed = entry.getDescriptorForType();
          FieldDescriptor vf = ed.findFieldByNumber(2);
          map.put(
              (String) entry.getField(ed.findFieldByNumber(1)),
              fromValue(vf, vt, entry.getField(vf)));
        }
        value = Collections.unmodifiableMap(map);
      } else if (f.isRepeated()) {
        Type et = elementType(t);
        List<Object> list = new ArrayList<>();
        for (Object element : (List<?>) message.getField(f)) {
          list.add(fromValue(f, et, element));
        }
        Class<?> raw = (Class<?>) ((ParameterizedType) t).getRawType();
        value =
            Set.class.isAssignableFrom(raw)
                ? Collections.unmodifiableSet(new LinkedHashSet<>(list))
                : Collections.unmodifiableList(list);
      } else if (f.hasPresence() && !message.hasField(f)) {
        value = null;
      } else {
        value = fromValue(f, valueType, message.getField(f));
      }
      args[i] = optional ? Optional.ofNullable(value) : value;
    }
    return mapping.construct(args);
  }

  private Object fromValue(FieldDescriptor f, Type type, Object value) {
    Class<?> c =
        type instanceof Class<?> k ? k : (Class<?>) ((ParameterizedType) type).getRawType();
    return switch (f.getJavaType()) {
      case INT -> {
        int v = (Integer) value;
        if (c == short.class || c == Short.class) {
          yield (short) inRange(f, v, Short.MIN_VALUE, Short.MAX_VALUE);
        }
        if (c == byte.class || c == Byte.class) {
          yield (byte) inRange(f, v, Byte.MIN_VALUE, Byte.MAX_VALUE);
        }
        yield v;
      }
      case LONG, FLOAT, DOUBLE, BOOLEAN -> value;
      case STRING -> {
        String s = (String) value;
        try {
          if (c == BigDecimal.class) {
            yield new BigDecimal(s);
          }
          if (c == BigInteger.class) {
            yield new BigInteger(s);
          }
          if (c == UUID.class) {
            yield UUID.fromString(s);
          }
        } catch (IllegalArgumentException e) {
          throw malformed(f.getName() + ": not a " + c.getSimpleName());
        }
        yield s;
      }
      case BYTE_STRING -> ((ByteString) value).toByteArray();
      case ENUM -> {
        int n = ((Descriptors.EnumValueDescriptor) value).getNumber();
        Object[] constants = c.getEnumConstants();
        if (n < 0 || n >= constants.length) {
          throw malformed(f.getName() + ": " + n + " is not a " + c.getSimpleName());
        }
        yield constants[n];
      }
      case MESSAGE -> {
        Message m = (Message) value;
        if (c == Instant.class) {
          Descriptors.Descriptor ts = m.getDescriptorForType();
          long seconds = (Long) m.getField(ts.findFieldByName("seconds"));
          int nanos = (Integer) m.getField(ts.findFieldByName("nanos"));
          try {
            yield Instant.ofEpochSecond(seconds, nanos);
          } catch (RuntimeException e) {
            throw malformed(f.getName() + ": not a valid timestamp");
          }
        }
        if (Message.class.isAssignableFrom(c)) {
          yield c.isInstance(m) ? m : generatedFrom(m, c);
        }
        yield fromMessage(m, c);
      }
    };
  }

  /** A generated message class's instance of the same bytes. */
  private static Object generatedFrom(Message m, Class<?> type) {
    try {
      return type.getMethod("parseFrom", ByteString.class).invoke(null, m.toByteString());
    } catch (InvocationTargetException e) {
      throw malformed(type.getSimpleName() + ": " + e.getCause().getMessage());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(type + ": no parseFrom(ByteString)", e);
    }
  }

  private static int inRange(FieldDescriptor f, int v, int min, int max) {
    if (v < min || v > max) {
      throw malformed(f.getName() + ": " + v + " out of range");
    }
    return v;
  }

  private static Type elementType(Type collection) {
    return ((ParameterizedType) collection).getActualTypeArguments()[0];
  }

  private static CodecException malformed(String message) {
    return new CodecException(CodecException.MALFORMED, message);
  }

  private Mapping mapping(Class<?> type, Descriptors.Descriptor d) {
    return mappings.computeIfAbsent(type, t -> new Mapping(t, d));
  }

  /** A record's components, their fields and its canonical constructor. */
  private static final class Mapping {
    final Method[] accessors;
    final FieldDescriptor[] fields;
    final Type[] types;
    final Constructor<?> constructor;

    Mapping(Class<?> type, Descriptors.Descriptor d) {
      RecordComponent[] components = type.getRecordComponents();
      accessors = new Method[components.length];
      fields = new FieldDescriptor[components.length];
      types = new Type[components.length];
      Class<?>[] parameterTypes = new Class<?>[components.length];
      for (int i = 0; i < components.length; i++) {
        accessors[i] = components[i].getAccessor();
        accessors[i].trySetAccessible();
        fields[i] = d.findFieldByName(components[i].getName());
        if (fields[i] == null) {
          throw new IllegalStateException(d.getFullName() + " has no " + components[i].getName());
        }
        types[i] = components[i].getGenericType();
        parameterTypes[i] = components[i].getType();
      }
      try {
        constructor = type.getDeclaredConstructor(parameterTypes);
        constructor.trySetAccessible();
      } catch (NoSuchMethodException e) {
        throw new IllegalStateException(type + ": no canonical constructor", e);
      }
    }

    Object get(int i, Object record) {
      try {
        return accessors[i].invoke(record);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException(accessors[i] + ": " + e.getMessage(), e);
      }
    }

    Object construct(Object[] args) {
      try {
        return constructor.newInstance(args);
      } catch (InvocationTargetException e) {
        // the record's own validation refused the values: bad input, like a JSON codec would say
        throw new CodecException(
            CodecException.MALFORMED,
            constructor.getDeclaringClass().getSimpleName()
                + ": "
                + String.valueOf(e.getCause().getMessage()));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(constructor + ": " + e.getMessage(), e);
      }
    }
  }
}
