package io.switchboard.gateway.dialect.responses.store;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class LocalResponseStoreTest {

  private final AtomicLong now = new AtomicLong(1_000);
  private final LocalResponseStore store = new LocalResponseStore(2, 100, now::get);

  private JsonObject get(String id) {
    return store.get(id).result();
  }

  @Test
  void keepsACopyUntilRemoved() {
    JsonObject stored = new JsonObject().put("response", new JsonObject().put("id", "a"));
    store.put("a", stored);
    stored.put("changed", true);
    assertThat(get("a")).isEqualTo(new JsonObject().put("response", new JsonObject().put("id", "a")));
    get("a").put("changed", true);
    assertThat(get("a").containsKey("changed")).isFalse();
    assertThat(store.remove("a").result()).isTrue();
    assertThat(store.remove("a").result()).isFalse();
    assertThat(get("a")).isNull();
  }

  @Test
  void entriesExpire() {
    store.put("a", new JsonObject());
    now.addAndGet(99);
    assertThat(get("a")).isNotNull();
    now.addAndGet(1);
    assertThat(get("a")).isNull();
    assertThat(store.remove("a").result()).isFalse();
  }

  @Test
  void theLeastRecentlyUsedGoesFirstWhenFull() {
    store.put("a", new JsonObject());
    store.put("b", new JsonObject());
    get("a");
    store.put("c", new JsonObject());
    assertThat(store.size()).isEqualTo(2);
    assertThat(get("b")).isNull();
    assertThat(get("a")).isNotNull();
    assertThat(get("c")).isNotNull();
  }
}
