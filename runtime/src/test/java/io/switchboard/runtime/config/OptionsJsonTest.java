package io.switchboard.runtime.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class OptionsJsonTest {

  @Test
  void stringsKeepTheTextsInOrderAndLeaveTheRest() {
    assertThat(OptionsJson.strings(new JsonArray().add("b").add(3).add("a").addNull()))
        .containsExactly("b", "a");
  }

  @Test
  void objectsAreReadByTheReaderAndNonObjectsLeft() {
    JsonArray array = new JsonArray().add(new JsonObject().put("n", 1)).add("x").add(new JsonObject().put("n", 2));
    assertThat(OptionsJson.readObjects(array, json -> json.getInteger("n"))).containsExactly(1, 2);
  }

  @Test
  void collectionsAreWrittenAsArraysAndNullStaysNull() {
    assertThat(OptionsJson.array(Set.of("only"))).isEqualTo(new JsonArray().add("only"));
    assertThat(OptionsJson.array(null)).isNull();
    assertThat(OptionsJson.writeObjects(List.of(1, 2), n -> new JsonObject().put("n", n)))
        .isEqualTo(new JsonArray().add(new JsonObject().put("n", 1)).add(new JsonObject().put("n", 2)));
    assertThat(OptionsJson.<Integer>writeObjects(null, n -> new JsonObject())).isNull();
  }
}
