package io.switchboard.protocol;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalHandoffCodecTest {

  private Vertx vertx;

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void closeVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aLocalConsumerGetsTheSentObjectItselfNotACopy() throws Exception {
    LocalHandoffCodec.registerOn(vertx.eventBus());
    LocalHandoffCodec.registerOn(vertx.eventBus()); // a second verticle of the node: no error
    CompletableFuture<JsonObject> received = new CompletableFuture<>();
    vertx.eventBus().<JsonObject>consumer("handoff", message -> received.complete(message.body()));
    JsonObject sent = new JsonObject().put("text", "hi").put("extra", new JsonObject().put("k", 1));

    vertx.eventBus().send("handoff", sent, LocalHandoffCodec.localDelivery());

    assertThat(received.get(5, TimeUnit.SECONDS)).isSameAs(sent);
  }

  @Test
  void withoutTheHandoffTheConsumerGetsACopy() throws Exception {
    CompletableFuture<JsonObject> received = new CompletableFuture<>();
    vertx.eventBus().<JsonObject>consumer("copied", message -> received.complete(message.body()));
    JsonObject sent = new JsonObject().put("text", "hi");

    vertx.eventBus().send("copied", sent);

    assertThat(received.get(5, TimeUnit.SECONDS)).isEqualTo(sent).isNotSameAs(sent);
  }

  @Test
  void aRequestToAnAddressWithNoLocalConsumerFailsAsNoHandlers() {
    LocalHandoffCodec.registerOn(vertx.eventBus());

    assertThatThrownBy(() -> vertx.eventBus().request("nobody", new JsonObject(), LocalHandoffCodec.localDelivery())
        .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(ReplyException.class)
        .satisfies(failure -> assertThat(((ReplyException) failure.getCause()).failureType())
            .isEqualTo(ReplyFailure.NO_HANDLERS));
  }

  @Test
  void onTheWireItIsPlainJsonAfterALengthSoAMisuseStillWorks() {
    LocalHandoffCodec codec = new LocalHandoffCodec();
    JsonObject chunk = new JsonObject().put("seq", 3).put("text", "é\n\"").put("list", new JsonArray().add(1));
    Buffer wire = Buffer.buffer().appendString("prefix");

    codec.encodeToWire(wire, chunk);

    assertThat(codec.decodeFromWire("prefix".length(), wire)).isEqualTo(chunk);
  }

  @Test
  void protocolObjectsAreHandedOverAndRefuseTheWire() throws Exception {
    LocalHandoffCodec.registerOn(vertx.eventBus());
    CompletableFuture<Object> received = new CompletableFuture<>();
    vertx.eventBus().consumer("objects", message -> received.complete(message.body()));
    LocalChunk sent = new LocalChunk("stream-1", StreamChunk.delta(4, "hi", 2));

    vertx.eventBus().send("objects", sent, LocalHandoffCodec.localDelivery());

    assertThat(received.get(5, TimeUnit.SECONDS)).isSameAs(sent);
    assertThatThrownBy(() -> new LocalHandoffCodec().encodeToWire(Buffer.buffer(), sent))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("LocalChunk").hasMessageContaining("JSON form");
  }
}
