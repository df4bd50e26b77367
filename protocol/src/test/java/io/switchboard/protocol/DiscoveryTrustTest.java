package io.switchboard.protocol;

import io.switchboard.runtime.tls.PeerTls;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which discovery records a node acts on: signed records from holders of the cluster CA's certificates (cluster
 * TLS on), and rpc-servers only from members at their own cluster address.
 */
class DiscoveryTrustTest {

  private static final ClusterMembers MEMBERS = nodeId -> switch (nodeId) {
    case "node-a" -> List.of("10.0.0.5");
    case "node-b" -> List.of("10.0.0.6");
    case "twin" -> List.of("10.0.0.5", "10.0.0.66");
    default -> List.of();
  };

  @BeforeAll
  static void certificates() throws Exception {
    TestCertificates.make();
  }

  private static JsonObject worker(String nodeId) {
    WorkerDescriptor descriptor = new WorkerDescriptor("w-1", nodeId, "llama-3-8b", "openai", 4, 8192,
        new JsonObject().put("eventbus", "switchboard.worker.w-1.generate").put("grpc", "10.0.0.5:7443"));
    return new JsonObject().put("type", WorkerDescriptor.RECORD_TYPE).put("name", descriptor.recordName())
        .put("location", descriptor.endpoints()).put("metadata", descriptor.toJson()).put("status", "UP")
        .put("registration", "reg-1");
  }

  private static JsonObject rpcServer(String nodeId, String host) {
    RpcBackendRecord backend = new RpcBackendRecord("rpc-" + host, nodeId, host, 50052, "3.0.0",
        new JsonArray().add(new JsonObject().put("freeBytes", 8_000_000_000L).put("totalBytes", 16_000_000_000L)), 42);
    return new JsonObject().put("type", RpcBackendRecord.RECORD_TYPE).put("name", backend.recordName())
        .put("location", new JsonObject().put("endpoint", backend.endpoint())).put("metadata", backend.toJson())
        .put("status", "UP").put("registration", "reg-2");
  }

  private static DiscoveryTrust signing(PeerTls tls) {
    return DiscoveryTrust.signed(tls, MEMBERS);
  }

  @Test
  void aSignedRecordIsHonouredAfterCrossingTheClusterInAnyKeyOrder() {
    DiscoveryTrust node = signing(TestCertificates.node());
    JsonObject signed = node.seal(worker("node-a"));

    assertThat(RecordSignature.present(signed)).isTrue();
    assertThat(node.refusal(signed)).isNull();
    // What the cluster map does to it: stored as text, read back (numbers may come back as other types).
    JsonObject carried = new JsonObject(signed.encode());
    assertThat(node.refusal(carried)).isNull();
    assertThat(node.refusal(reordered(carried))).as("keys in another order").isNull();
    assertThat(signing(TestCertificates.ecNode()).refusal(carried)).as("any holder of the CA verifies").isNull();
  }

  @Test
  void anEcKeySignsToo() {
    DiscoveryTrust ec = signing(TestCertificates.ecNode());
    JsonObject signed = ec.seal(rpcServer("node-a", "10.0.0.5"));

    assertThat(signing(TestCertificates.node()).refusal(new JsonObject(signed.encode()))).isNull();
  }

  @Test
  void anUnsignedRecordIsRefusedWhenTheClusterSigns() {
    assertThat(signing(TestCertificates.node()).refusal(worker("node-a")))
        .contains("not signed").contains("cluster TLS is on");
  }

  @Test
  void aRecordChangedAfterSigningIsRefused() {
    DiscoveryTrust node = signing(TestCertificates.node());
    JsonObject signed = node.seal(worker("node-a"));

    JsonObject redirected = signed.copy();
    redirected.getJsonObject("location").put("grpc", "10.6.6.6:7443");
    assertThat(node.refusal(redirected)).contains("does not match its content");
    JsonObject moreSlots = signed.copy();
    moreSlots.getJsonObject("metadata").put("slots", 400);
    assertThat(node.refusal(moreSlots)).contains("does not match its content");
  }

  @Test
  void aSignedRecordCannotBeReplayedForAnotherNode() {
    DiscoveryTrust node = signing(TestCertificates.node());
    JsonObject signed = node.seal(rpcServer("node-a", "10.0.0.5"));

    JsonObject otherNode = signed.copy();
    otherNode.getJsonObject("metadata").put("nodeId", "node-b");
    assertThat(node.refusal(otherNode)).contains("does not match its content");
    JsonObject resigned = signed.copy();
    resigned.getJsonObject("metadata").getJsonObject(RecordSignature.FIELD).put("signedAtMs", 1L);
    assertThat(node.refusal(resigned)).as("another publication time").contains("does not match its content");
  }

  @Test
  void aSignatureMovedOntoAnotherRecordIsRefused() {
    DiscoveryTrust node = signing(TestCertificates.node());
    JsonObject signed = node.seal(worker("node-a"));
    JsonObject forged = rpcServer("node-a", "10.0.0.5");
    forged.getJsonObject("metadata").put(RecordSignature.FIELD,
        signed.getJsonObject("metadata").getJsonObject(RecordSignature.FIELD).copy());

    assertThat(node.refusal(forged)).contains("does not match its content");
  }

  @Test
  void aCertificateFromAnotherCaIsRefusedEvenWithTheSameNames() {
    JsonObject byStranger = DiscoveryTrust.signed(TestCertificates.rogue(), MEMBERS).seal(worker("node-a"));

    assertThat(signing(TestCertificates.node()).refusal(byStranger))
        .contains("was not issued by the cluster's CA");
  }

  @Test
  void aChainIsValidatedOnceHoweverManyRecordsCarryIt() {
    RecordVerifier verifier = RecordVerifier.load(TestCertificates.node().caPath());
    RecordSigner stranger = RecordSigner.load(TestCertificates.rogue());
    RecordSigner node = RecordSigner.load(TestCertificates.node());

    for (int i = 0; i < 50; i++) {
      assertThat(verifier.check(stranger.sign(worker("node-" + i), i))).contains("not issued by the cluster's CA");
      assertThat(verifier.check(node.sign(worker("node-" + i), i))).isNull();
    }

    assertThat(verifier.chainsValidated()).as("one validation per chain, not per record").isEqualTo(2);
  }

  @Test
  void malformedSignaturesAreRefusedWithoutThrowing() {
    DiscoveryTrust node = signing(TestCertificates.node());
    JsonObject signed = node.seal(worker("node-a"));
    JsonObject signature = signed.getJsonObject("metadata").getJsonObject(RecordSignature.FIELD);

    assertThat(node.refusal(with(signed, signature.copy().put("certs", new JsonArray()))))
        .contains("malformed");
    assertThat(node.refusal(with(signed, signature.copy().put("certs", new JsonArray().add("bm90IGEgY2VydA==")))))
        .contains("certificate cannot be read");
    assertThat(node.refusal(with(signed, signature.copy().put("value", "%%%")))).contains("cannot be checked");
    assertThat(node.refusal(with(signed, signature.copy().put("certs", new JsonArray().add(7)))))
        .contains("non-text");
    assertThat(node.refusal(signed.copy().put("metadata", "text"))).contains("no metadata");
  }

  @Test
  void rpcServersAreHonouredOnlyFromMembersAtTheirOwnClusterAddress() {
    DiscoveryTrust plain = DiscoveryTrust.unsigned(MEMBERS);

    assertThat(plain.refusal(rpcServer("node-a", "10.0.0.5"))).isNull();
    assertThat(plain.refusal(rpcServer("node-gone", "10.0.0.7"))).contains("is not a member of the cluster");
    assertThat(plain.refusal(rpcServer("node-a", "10.6.6.6")))
        .contains("names host 10.6.6.6").contains("node-a is at 10.0.0.5").contains("rpcPool.endpoints");
    assertThat(plain.refusal(rpcServer("node-b", "10.0.0.5"))).as("another member's address")
        .contains("node-b is at 10.0.0.6");
    assertThat(plain.refusal(rpcServer("twin", "10.0.0.5"))).contains("claimed by 2 members");
    JsonObject noHost = rpcServer("node-a", "10.0.0.5");
    noHost.getJsonObject("metadata").remove("host");
    assertThat(plain.refusal(noHost)).contains("names no node id or host");
    assertThat(plain.refusal(worker("anyone"))).as("worker records need no membership check here").isNull();
    assertThat(DiscoveryTrust.unclustered().refusal(rpcServer("node-a", "10.0.0.5")))
        .contains("not a member");
  }

  @Test
  void withTlsOnAnRpcServerNeedsBothASignatureAndItsMembersAddress() {
    DiscoveryTrust node = signing(TestCertificates.node());

    assertThat(node.refusal(node.seal(rpcServer("node-a", "10.0.0.5")))).isNull();
    assertThat(node.refusal(node.seal(rpcServer("node-a", "10.6.6.6")))).contains("names host 10.6.6.6");
    assertThat(node.refusal(rpcServer("node-a", "10.0.0.5"))).contains("not signed");
  }

  @Test
  void canonicalFormIgnoresKeyOrderAndNumberTypes() {
    JsonObject a = new JsonObject().put("b", 2).put("a", new JsonArray().add(1.0).add("x\"y")).put("c", (Object) null);
    JsonObject b = new JsonObject().put("c", (Object) null).put("a", new JsonArray().add(1L).add("x\"y")).put("b", 2.0);

    assertThat(new String(CanonicalJson.bytes(a))).isEqualTo("{\"a\":[1,\"x\\\"y\"],\"b\":2,\"c\":null}");
    assertThat(CanonicalJson.bytes(b)).isEqualTo(CanonicalJson.bytes(a));
    assertThat(new String(CanonicalJson.bytes(new JsonArray().add(0.25).add(1e21)))).isEqualTo("[0.25,"
        + "1000000000000000000000]");
  }

  private static JsonObject with(JsonObject record, JsonObject signature) {
    JsonObject copy = record.copy();
    copy.getJsonObject("metadata").put(RecordSignature.FIELD, signature);
    return copy;
  }

  private static JsonObject reordered(JsonObject object) {
    List<String> keys = new ArrayList<>(object.fieldNames());
    Collections.reverse(keys);
    JsonObject result = new JsonObject();
    for (String key : keys) {
      Object value = object.getValue(key);
      result.put(key, value instanceof JsonObject nested ? reordered(nested) : value);
    }
    return result;
  }

}
