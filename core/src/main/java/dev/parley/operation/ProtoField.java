package dev.parley.operation;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Pins the Protobuf field number of a record component in the {@code .proto} Parley derives from an
 * operation's records. Without it a component's number is its position (1, 2, …), so reordering,
 * inserting or removing a component renumbers the ones after it — a breaking change on the wire.
 * Pin every component of a type that has ever been published, and never reuse a number:
 *
 * <pre>{@code
 * record Ticket(@ProtoField(1) String id, @ProtoField(3) int items) {}   // 2 was retired
 * }</pre>
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({
  ElementType.RECORD_COMPONENT,
  ElementType.PARAMETER,
  ElementType.FIELD,
  ElementType.METHOD
})
public @interface ProtoField {

  /** The field number: 1 to 536,870,911, not 19,000 to 19,999. */
  int value();
}
