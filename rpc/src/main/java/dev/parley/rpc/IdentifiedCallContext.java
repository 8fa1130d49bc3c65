package dev.parley.rpc;

import dev.parley.operation.CallContext;
import dev.parley.policy.Deadline;
import dev.parley.security.Identity;
import java.util.Optional;

/** A call over messaging whose caller the server authenticated. */
record IdentifiedCallContext(CallContext delegate, Identity caller) implements CallContext {

  @Override
  public String binding() {
    return delegate.binding();
  }

  @Override
  public Optional<Deadline> deadline() {
    return delegate.deadline();
  }

  @Override
  public Optional<String> idempotencyKey() {
    return delegate.idempotencyKey();
  }

  @Override
  public Optional<String> header(String name) {
    return delegate.header(name);
  }

  @Override
  public boolean isCancelled() {
    return delegate.isCancelled();
  }

  @Override
  public void onCancel(Runnable action) {
    delegate.onCancel(action);
  }

  @Override
  public Optional<Identity> identity() {
    return Optional.of(caller);
  }
}
