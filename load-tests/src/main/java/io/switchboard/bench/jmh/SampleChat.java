package io.switchboard.bench.jmh;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What the JMH benchmarks write and read, the same for all of them so their numbers describe one chat: a client's
 * streamed chat request (a system prompt and a question), the pieces of its answer as a backend streams them (one
 * token or twenty tokens to a chunk), and the bodies body-bench reads.
 */
public final class SampleChat {

  /** The model, as a vLLM or SGLang backend names it. */
  public static final String MODEL = "Qwen/Qwen2.5-7B-Instruct";
  /** One token of an answer, as most chunks of a stream carry it. */
  public static final String ONE_TOKEN = " Paris";
  /** About twenty tokens: what a chunk carries when a fast backend's tokens arrive together. */
  public static final String TWENTY_TOKENS = " The capital of France is Paris, a city of about two million people"
      + " on the Seine.";

  private SampleChat() {
  }

  /**
   * The client's body as the gateway holds it: parsed by Jackson from the bytes a client sent (so its numbers are the
   * types a parse gives, not the ones a builder would put).
   */
  public static JsonObject requestBody() {
    return new JsonObject(new JsonObject().put("model", MODEL)
        .put("messages", new JsonArray()
            .add(new JsonObject().put("role", "system").put("content", "You are a helpful assistant. Answer in one"
                + " or two sentences, in the language of the question."))
            .add(new JsonObject().put("role", "user").put("content", "What is the capital of France, and what is it"
                + " known for?")))
        .put("stream", true).put("max_tokens", 256).put("temperature", 0.7).encode());
  }

  /**
   * A longer conversation's body: a system prompt and {@code turns} alternating user and assistant messages of a
   * few sentences each, some of them not ASCII.
   */
  public static JsonObject conversationBody(int turns) {
    JsonArray messages = new JsonArray().add(new JsonObject().put("role", "system")
        .put("content", "You are a travel guide. Be precise; quote prices in euros (€)."));
    for (int turn = 0; turn < turns; turn++) {
      String content = turn % 2 == 0
          ? "Tell me more about the " + turn + "th arrondissement: where to eat, what to see, and how to get there."
          : "The " + turn + "th arrondissement has cafés on every corner — try the crème brûlée — and the métro"
              + " stops at its centre. Museums open at 9:00 and most close on Mondays; tickets cost 12 € to 17 €.";
      messages.add(new JsonObject().put("role", turn % 2 == 0 ? "user" : "assistant").put("content", content));
    }
    return new JsonObject(new JsonObject().put("model", MODEL).put("messages", messages).put("stream", true)
        .put("max_tokens", 512).put("temperature", 0.7).put("top_p", 0.9).encode());
  }

  /**
   * A client's chat body as bytes, by name: {@code one-line} (the one-line chat of the compare benchmark),
   * {@code chat-20k-ascii} (a 40-turn conversation of about 20 KB in ASCII), {@code chat-20k-unicode} (the same with
   * non-ASCII text in every message).
   */
  public static Buffer clientBody(String name) {
    JsonObject request = new JsonObject().put("model", "fast-llm").put("max_tokens", 16);
    JsonArray messages = new JsonArray();
    switch (name) {
      case "one-line" -> messages.add(message("user", "Say something short."));
      case "chat-20k-ascii" -> conversation(messages, "The quick brown fox jumps over the lazy dog, again. ");
      case "chat-20k-unicode" -> conversation(messages, "Der Fuchs springt über den Hund — 狐狸跳过狗 🦊. ");
      default -> throw new IllegalArgumentException("unknown body " + name);
    }
    return request.put("messages", messages).toBuffer();
  }

  private static void conversation(JsonArray messages, String sentence) {
    messages.add(message("system", "You are a helpful assistant. " + sentence.repeat(4)));
    for (int turn = 0; turn < 40; turn++) {
      messages.add(message(turn % 2 == 0 ? "user" : "assistant", sentence.repeat(9)));
    }
  }

  private static JsonObject message(String role, String content) {
    return new JsonObject().put("role", role).put("content", content);
  }
}
