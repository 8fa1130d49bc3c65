package dev.parley.error;

/** The remote party handled the call and failed; {@link #status()} says how. */
public final class RemoteException extends ParleyException {

  private static final long serialVersionUID = 1L;

  public RemoteException(Status status) {
    super(status, null);
  }

  @Override
  public String getMessage() {
    return status().code() + " " + status().errorCode() + ": " + status().message();
  }
}
