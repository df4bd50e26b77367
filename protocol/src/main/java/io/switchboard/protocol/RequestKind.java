package io.switchboard.protocol;

/**
 * Which OpenAI endpoint a request came from; engines format prompts and resumption per kind. An embedding
 * request travels the same planes as a generation and comes back as one final chunk carrying the whole answer.
 */
public enum RequestKind {
  CHAT("chat"),
  COMPLETION("completion"),
  EMBEDDING("embedding");

  private final String wireName;

  RequestKind(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static RequestKind fromWire(String name) {
    for (RequestKind kind : values()) {
      if (kind.wireName.equals(name)) {
        return kind;
      }
    }
    throw new IllegalArgumentException("unknown request kind '" + name + "' (allowed: chat, completion, embedding)");
  }
}
