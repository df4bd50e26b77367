package io.switchboard.worker.plane;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GrpcPlaneOptionsTest {

  @Test
  void defaultsAreValidAndAskForAnyFreePort() {
    GrpcPlaneOptions options = new GrpcPlaneOptions();
    assertThatCode(() -> options.validate("grpc")).doesNotThrowAnyException();
    assertThat(options.getPort()).isZero();
    assertThat(options.getHost()).as("unset: the launcher uses the cluster host").isNull();
  }

  @Test
  void thePublishedHostIsTheAdvertisedOneWhenSet() {
    assertThat(new GrpcPlaneOptions().setHost("10.0.0.5").publishedHost()).isEqualTo("10.0.0.5");
    assertThat(new GrpcPlaneOptions().setHost("0.0.0.0").setAdvertisedHost("node-a.lan").publishedHost())
        .isEqualTo("node-a.lan");
  }

  @Test
  void badValuesNameTheKey() {
    assertThatThrownBy(() -> new GrpcPlaneOptions().setPort(65536).validate("grpc"))
        .hasMessageContaining("grpc.port");
    assertThatThrownBy(() -> new GrpcPlaneOptions().setHost(" ").validate("grpc"))
        .hasMessageContaining("grpc.host");
    assertThatThrownBy(() -> new GrpcPlaneOptions().setHost("0.0.0.0").validate("grpc"))
        .hasMessageContaining("grpc.advertisedHost");
    assertThatThrownBy(() -> new GrpcPlaneOptions().setAdvertisedHost("0.0.0.0").validate("grpc"))
        .hasMessageContaining("grpc.advertisedHost");
  }

  @Test
  void jsonRoundTripKeepsUnsetHostsAsKeys() {
    GrpcPlaneOptions options = new GrpcPlaneOptions().setPort(7443);
    JsonObject json = options.toJson();

    assertThat(json.fieldNames()).containsExactlyInAnyOrder("host", "port", "advertisedHost", "maxMessageBytes");
    assertThat(new GrpcPlaneOptions(json).toJson()).isEqualTo(json);
  }

  @Test
  void theMessageLimitIsAtLeastOneMebibyte() {
    assertThat(new GrpcPlaneOptions().getMaxMessageBytes()).isEqualTo(16 * 1024 * 1024);
    assertThatThrownBy(() -> new GrpcPlaneOptions().setMaxMessageBytes(65536).validate("grpc"))
        .hasMessageContaining("grpc.maxMessageBytes must be >= 1048576");
  }
}
