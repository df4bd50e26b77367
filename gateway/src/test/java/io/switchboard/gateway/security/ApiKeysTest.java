package io.switchboard.gateway.security;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApiKeysTest {

  private static final RateLimitOptions DEFAULTS = new RateLimitOptions().setRequestsPerMinute(100);

  private static ApiKeys parse(String... lines) {
    List<ApiKeys.Entry> entries = new java.util.ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      entries.add(new ApiKeys.Entry(lines[i], "keys line " + (i + 1)));
    }
    return ApiKeys.parse(entries, DEFAULTS);
  }

  @Test
  void findsAKeyByItsTextAndKeepsOnlyItsHash() {
    ApiKeys keys = parse("sk-alpha-123456;name=alpha;models=llama|qwen;rpm=60;tpm=5000", "sk-beta-987654", "# a comment",
        "");
    assertThat(keys.size()).isEqualTo(2);
    ApiKey alpha = keys.find("sk-alpha-123456");
    assertThat(alpha.name()).isEqualTo("alpha");
    assertThat(alpha.models()).isEqualTo(Set.of("llama", "qwen"));
    assertThat(alpha.requestsPerMinute()).isEqualTo(60);
    assertThat(alpha.tokensPerMinute()).isEqualTo(5000);
    assertThat(alpha.allows("llama")).isTrue();
    assertThat(alpha.allows("mistral")).isFalse();
    assertThat(alpha.sha256()).isEqualTo(ApiKeys.sha256("sk-alpha-123456"));
    ApiKey beta = keys.find("sk-beta-987654");
    assertThat(beta.name()).startsWith("key-").hasSize(16).doesNotContain("beta");
    assertThat(beta.requestsPerMinute()).as("the default of gateway.rateLimits").isEqualTo(100);
    assertThat(beta.allows("anything")).isTrue();
    assertThat(keys.find("sk-alpha-12345")).isNull();
    assertThat(keys.find("")).isNull();
  }

  @Test
  void aKeysCapOfConcurrentRequestsIsItsOwnOrTheDefault() {
    RateLimitOptions defaults = new RateLimitOptions().setConcurrentRequests(16);
    ApiKeys keys = ApiKeys.parse(List.of(new ApiKeys.Entry("sk-capped-1;name=capped;concurrency=3", "line 1"),
        new ApiKeys.Entry("sk-default-2;name=default", "line 2"),
        new ApiKeys.Entry("sk-free-3;name=free;concurrency=0", "line 3")), defaults);
    assertThat(keys.find("sk-capped-1").concurrentRequests()).isEqualTo(3);
    assertThat(keys.find("sk-default-2").concurrentRequests()).as("gateway.rateLimits.concurrentRequests")
        .isEqualTo(16);
    assertThat(keys.find("sk-free-3").concurrentRequests()).as("0 = no cap").isZero();
    assertThat(ApiKey.anonymous(defaults).concurrentRequests()).isEqualTo(16);
    assertThatThrownBy(() -> parse("k1;concurrency=-1")).hasMessageContaining("concurrency= must be a whole number");
    assertThatThrownBy(() -> parse("k1;concurrency=many")).hasMessageContaining("concurrency=");
  }

  @Test
  void acceptsAKeyGivenAsItsSha256() {
    String hex = HexFormat.of().formatHex(ApiKeys.sha256("never-written-down"));
    ApiKeys keys = parse("sha256:" + hex + ";name=hidden");
    assertThat(keys.find("never-written-down").name()).isEqualTo("hidden");
  }

  @Test
  void badEntriesSayWhereAndWhat() {
    assertThatThrownBy(() -> parse("ok-key-1", "sha256:abc")).hasMessageContaining("keys line 2")
        .hasMessageContaining("64 hex digits");
    assertThatThrownBy(() -> parse("key one")).hasMessageContaining("visible ASCII");
    assertThatThrownBy(() -> parse("k1;rpm=-3")).hasMessageContaining("rpm= must be a whole number");
    assertThatThrownBy(() -> parse("k1;color=blue")).hasMessageContaining("unknown API key attribute 'color'")
        .hasMessageContaining("concurrency");
    assertThatThrownBy(() -> parse("k1;models=")).hasMessageContaining("models=");
    assertThatThrownBy(() -> parse("k1", "k1")).hasMessageContaining("listed twice");
    assertThatThrownBy(() -> parse("k1;name=a", "k2;name=a")).hasMessageContaining("named 'a'");
    assertThatThrownBy(() -> parse(";name=a")).hasMessageContaining("must start with the key");
  }
}
