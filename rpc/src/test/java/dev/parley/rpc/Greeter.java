package dev.parley.rpc;

import dev.parley.policy.Deadline;
import dev.parley.rpc.test.GreetReply;
import dev.parley.rpc.test.GreetRequest;
import dev.parley.rpc.test.GreeterGrpc;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicInteger;

/** A plain grpc-java service (generated base class), served next to Parley operations. */
final class Greeter extends GreeterGrpc.GreeterImplBase {

  final AtomicInteger calls = new AtomicInteger();

  @Override
  public void greet(GreetRequest request, StreamObserver<GreetReply> observer) {
    calls.incrementAndGet();
    long deadlineMs = Deadline.current().map(Deadline::remainingMillis).orElse(-1L);
    observer.onNext(
        GreetReply.newBuilder()
            .setMessage("hello " + request.getName())
            .setDeadlineMs(deadlineMs)
            .build());
    observer.onCompleted();
  }
}
