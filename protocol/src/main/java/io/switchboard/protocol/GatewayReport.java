package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * What a gateway tells the cluster about itself every few seconds on {@link Addresses#GATEWAY_REPORTS}, so
 * {@code /admin/cluster} on any node lists every gateway and the request plane each one uses.
 *
 * @param gatewayId     unique per gateway verticle
 * @param nodeId        cluster node id of the node running it
 * @param requestPlane  "eventbus" or "grpc"
 * @param routingPolicy the policy it routes with
 * @param http          where its API listens, host:port
 * @param openStreams   streams open through it now
 * @param sentAtMs      sender's wall clock when sent
 */
public record GatewayReport(String gatewayId, String nodeId, String requestPlane, String routingPolicy, String http,
                            int openStreams, long sentAtMs) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("gatewayId", gatewayId)
        .put("nodeId", nodeId)
        .put("requestPlane", requestPlane)
        .put("routingPolicy", routingPolicy)
        .put("http", http)
        .put("openStreams", openStreams)
        .put("sentAtMs", sentAtMs);
  }

  public static GatewayReport fromJson(JsonObject json) {
    return new GatewayReport(
        json.getString("gatewayId"),
        json.getString("nodeId"),
        json.getString("requestPlane"),
        json.getString("routingPolicy"),
        json.getString("http"),
        json.getInteger("openStreams", 0),
        json.getLong("sentAtMs", 0L));
  }
}
