package io.switchboard.gateway.routing;

/**
 * What a routing policy may look at in one request: its model, its prompt (chat messages flattened, the same
 * text workers receive) and, for session affinity, the session it belongs to. The prompt's prefix blocks are
 * computed once and kept, so a retry on another worker does not hash the prompt again.
 *
 * @param sessionKey the client's session (the session header, else the body's {@code user}); null when none
 */
public final class RouteRequest {

  private final String model;
  private final String prompt;
  private final String sessionKey;
  private long[] blocks;
  private int blockChars;

  public RouteRequest(String model, String prompt, String sessionKey) {
    this.model = model;
    this.prompt = prompt == null ? "" : prompt;
    this.sessionKey = sessionKey;
  }

  public String model() {
    return model;
  }

  public String prompt() {
    return prompt;
  }

  public String sessionKey() {
    return sessionKey;
  }

  /** This request for another model (an alias's next one): the prompt's block hashes, once computed, are kept. */
  public RouteRequest forModel(String otherModel) {
    RouteRequest other = new RouteRequest(otherModel, prompt, sessionKey);
    other.blocks = blocks;
    other.blockChars = blockChars;
    return other;
  }

  /** The prompt's chained block hashes for blocks of {@code chars} characters (see {@link PromptBlocks}). */
  long[] blocks(int chars) {
    if (blocks == null || blockChars != chars) {
      blocks = PromptBlocks.hash(prompt, chars);
      blockChars = chars;
    }
    return blocks;
  }
}
