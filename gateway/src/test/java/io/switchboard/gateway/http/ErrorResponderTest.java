package io.switchboard.gateway.http;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.switchboard.gateway.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 500 tells the client which component failed and the request id, never the exception: its text may say
 * anything about the gateway's insides (paths, addresses, secrets in a message). The log has it, under that id.
 */
@ExtendWith(VertxExtension.class)
class ErrorResponderTest {

  private int port;
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();

  @BeforeEach
  void start(Vertx vertx, VertxTestContext listening) {
    Router router = Router.router(vertx);
    router.get("/boom").handler(ctx -> {
      throw new IllegalStateException("cannot open /srv/switchboard/secrets.env: token=hunter2");
    });
    router.get("/v1/boom").handler(ctx -> {
      ctx.put(RequestIds.HEADER, "req-named-1");
      ctx.response().putHeader(RequestIds.HEADER, "req-named-1");
      throw new IllegalStateException("token=hunter2");
    });
    router.get("/v1/refused/:status").handler(ctx -> {
      throw new ApiError(Integer.parseInt(ctx.pathParam("status")), "invalid_request_error", "x", null, "no");
    });
    ErrorResponder errors = new ErrorResponder(1024);
    router.route().failureHandler(errors);
    log.start();
    ((Logger) LoggerFactory.getLogger(ErrorResponder.class)).addAppender(log);
    vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").onComplete(listening.succeeding(server -> {
      port = server.actualPort();
      listening.completeNow();
    }));
  }

  @AfterEach
  void stop() {
    ((Logger) LoggerFactory.getLogger(ErrorResponder.class)).detachAppender(log);
  }

  @Test
  void aFiveHundredNamesTheComponentAndTheRequestButNotTheException() throws Exception {
    RawHttp.Response response = RawHttp.get(port, "/boom", "x-request-id: client-req-42\r\n");
    assertThat(response.status()).isEqualTo(500);
    String message = response.error().getString("message");
    assertThat(response.error().getString("code")).isEqualTo("internal_error");
    assertThat(message).contains("gateway", "client-req-42")
        .doesNotContain("hunter2", "IllegalStateException", "/srv/switchboard");
    assertThat(response.headers().get("x-request-id")).isEqualTo("client-req-42");
    ILoggingEvent logged = log.list.get(0);
    assertThat(logged.getThrowableProxy().getMessage()).contains("hunter2");
    assertThat(String.valueOf(java.util.List.of(logged.getArgumentArray()))).contains("requestId=client-req-42");
  }

  @Test
  void aRequestWithoutAnIdGetsOneItCanQuote() throws Exception {
    RawHttp.Response response = RawHttp.get(port, "/boom", "");
    String id = response.headers().get("x-request-id");
    assertThat(id).isNotBlank();
    assertThat(response.error().getString("message")).contains("request " + id).doesNotContain("null");
    RawHttp.Response named = RawHttp.get(port, "/v1/boom", "");
    assertThat(named.error().getString("message")).contains("req-named-1").doesNotContain("hunter2");
  }

  @Test
  void clientsThatRetryOnTheirOwnAreToldWhetherTheSameRequestMaySucceed() throws Exception {
    // What the OpenAI and Anthropic SDKs and Claude Code obey: it retried a 401 for three minutes without it.
    for (int status : new int[] {400, 401, 403, 404, 413}) {
      assertThat(RawHttp.get(port, "/v1/refused/" + status, "").headers().get("x-should-retry")).as("%s", status)
          .isEqualTo("false");
    }
    assertThat(RawHttp.get(port, "/v1/refused/429", "").headers().get("x-should-retry")).isEqualTo("true");
    RawHttp.Response overloaded = RawHttp.get(port, "/v1/refused/503", "");
    assertThat(overloaded.headers().get("x-should-retry")).isEqualTo("true");
    assertThat(overloaded.headers().get("retry-after")).isEqualTo("1");
    assertThat(RawHttp.get(port, "/boom", "").headers().get("x-should-retry")).as("a bug: the client's call").isNull();
  }
}
