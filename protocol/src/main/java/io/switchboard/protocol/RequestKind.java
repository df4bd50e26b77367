package io.switchboard.protocol;

/** Which OpenAI endpoint a generation came from; engines format prompts and resumption per kind. */
public enum RequestKind {
  CHAT("chat"),
  COMPLETION("completion");

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
    throw new IllegalArgumentException("unknown request kind '" + name + "' (allowed: chat, completion)");
  }
}
