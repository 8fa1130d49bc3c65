package dev.parley.rpc;

import com.linecorp.armeria.common.ExchangeType;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.HttpServiceWithRoutes;
import com.linecorp.armeria.server.Route;
import com.linecorp.armeria.server.RoutingContext;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceOptions;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.grpc.GrpcService;
import java.util.Set;

/**
 * The gRPC service of the operations, hidden from Armeria's DocService: its gRPC plugin describes
 * protobuf services only and fails on codec-marshalled methods (the operations have their own
 * page). Everything else is forwarded unchanged.
 */
final class OperationsGrpcService implements HttpServiceWithRoutes {

  private final GrpcService delegate;

  OperationsGrpcService(GrpcService delegate) {
    this.delegate = delegate;
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
    return delegate.serve(ctx, req);
  }

  @Override
  public void serviceAdded(ServiceConfig cfg) throws Exception {
    delegate.serviceAdded(cfg);
  }

  @Override
  public Set<Route> routes() {
    return delegate.routes();
  }

  @Override
  public ExchangeType exchangeType(RoutingContext routingContext) {
    return delegate.exchangeType(routingContext);
  }

  @Override
  public ServiceOptions options() {
    return delegate.options();
  }
}
