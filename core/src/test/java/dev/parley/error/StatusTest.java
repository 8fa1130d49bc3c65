package dev.parley.error;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StatusTest {

  @Test
  void codesMapToHttpStatuses() {
    assertThat(Code.INVALID_ARGUMENT.httpStatus()).isEqualTo(400);
    assertThat(Code.UNAUTHENTICATED.httpStatus()).isEqualTo(401);
    assertThat(Code.PERMISSION_DENIED.httpStatus()).isEqualTo(403);
    assertThat(Code.NOT_FOUND.httpStatus()).isEqualTo(404);
    assertThat(Code.RESOURCE_EXHAUSTED.httpStatus()).isEqualTo(429);
    assertThat(Code.UNAVAILABLE.httpStatus()).isEqualTo(503);
    assertThat(Code.DEADLINE_EXCEEDED.httpStatus()).isEqualTo(504);
  }

  @Test
  void badInputIsNeverRetryableAndTransportFailuresAre() {
    assertThat(new BadInputException("x", "y").isRetryable()).isFalse();
    assertThat(new TransportException("x", "y", null).isRetryable()).isTrue();
    assertThat(new DeadlineExceededException("late").isRetryable()).isFalse();
  }

  @Test
  void remoteStatusBecomesAnException() {
    Status status = Status.of(Code.NOT_FOUND, "order.not_found", "no order o-1");

    RemoteException e = status.asException();

    assertThat(e.status()).isEqualTo(status);
    assertThat(e.errorCode()).isEqualTo("order.not_found");
    assertThat(e).hasMessage("NOT_FOUND order.not_found: no order o-1");
  }

  @Test
  void unknownCodeNamesParseAsUnknown() {
    assertThat(Code.parse("NOPE")).isEqualTo(Code.UNKNOWN);
    assertThat(Code.parse(null)).isEqualTo(Code.UNKNOWN);
    assertThat(Code.parse("ABORTED")).isEqualTo(Code.ABORTED);
  }
}
