package dev.parley.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.error.Code;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AccessTest {

  private static final Identity ORDERS = new Identity("order-service", Set.of(), "mtls");
  private static final Identity READER = new Identity("report-job", Set.of("kitchen.read"), "jwt");
  private static final Identity STRANGER = new Identity("stranger", Set.of("other"), "jwt");

  private final Access access =
      Access.builder()
          .allow("kitchen/CreateTicket", "order-service")
          .allowScope("kitchen/*", "kitchen.read")
          .allowAuthenticated("kitchen/Ping")
          .build();

  @Test
  void aRuleAllowsByNameByScopeOrAnyAuthenticatedCaller() {
    assertThat(access.check("kitchen", "CreateTicket", ORDERS)).isEmpty();
    assertThat(access.check("kitchen", "GetTicket", READER)).isEmpty();
    assertThat(access.check("kitchen", "CreateTicket", READER)).isEmpty();
    assertThat(access.check("kitchen", "Ping", STRANGER)).isEmpty();
  }

  @Test
  void whatNoRuleAllowsIsRefusedWithoutNamingTheRules() {
    var refused = access.check("kitchen", "GetTicket", ORDERS);
    assertThat(refused).isPresent();
    assertThat(refused.get().code()).isEqualTo(Code.PERMISSION_DENIED);
    assertThat(refused.get().errorCode()).isEqualTo("parley.permission_denied");
    assertThat(refused.get().message())
        .isEqualTo("'order-service' may not call kitchen/GetTicket")
        .doesNotContain("kitchen.read");
    assertThat(access.check("billing", "Charge", READER)).isPresent();
    assertThat(access.check("kitchen", "CreateTicket", STRANGER)).isPresent();
  }

  @Test
  void aServicePatternDoesNotMatchAServiceWithTheSamePrefix() {
    assertThat(access.check("kitchenette", "GetTicket", READER)).isPresent();
  }

  @Test
  void anyAuthenticatedAllowsEverything() {
    assertThat(Access.anyAuthenticated().check("any", "Thing", STRANGER)).isEmpty();
  }

  @Test
  void badRulesAreRefusedWhenBuilt() {
    assertThatThrownBy(() -> Access.builder().allow("kitchen", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("service/name");
    assertThatThrownBy(() -> Access.builder().allow("kitchen/*"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Access.builder().allowScope("*", " "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Access.builder().build()).isInstanceOf(IllegalStateException.class);
    assertThat(access.describe())
        .isEqualTo(
            "kitchen/CreateTicket <- identities order-service\n"
                + "kitchen/* <- scope kitchen.read\n"
                + "kitchen/Ping <- any authenticated caller");
  }
}
