package io.switchboard.gateway.models;

import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.gateway.security.ApiKey;

import java.util.ArrayList;
import java.util.List;

/**
 * The served models one request may go to, in order, and the one it is trying now: for a model asked for by its own
 * name, that model alone; for an alias, the alias's models (those the request's key may reach). The exchange passes
 * over the current model to the next when it cannot serve the request (see docs/aliases.md) and says why; the
 * reasons are kept for the error a request gets when no model of its alias could serve it. Bounded by the alias's
 * length. Used on the request's event loop only.
 */
public final class ModelChain {

  private final String requested;
  private final List<String> models;
  private final boolean alias;
  private int index;
  /** "model: why" for each model passed over since the chain last started over; null until one is. */
  private List<String> passedOver;

  private ModelChain(String requested, List<String> models, boolean alias) {
    this.requested = requested;
    this.models = models;
    this.alias = alias;
  }

  /**
   * The chain of a request for {@code requested}: an alias's models a request made with {@code key} may reach
   * ({@link ModelAliases#allowedTargets}), else the model itself.
   */
  public static ModelChain of(String requested, ModelAliases aliases, ApiKey key) {
    List<String> targets = aliases.isAlias(requested) ? aliases.allowedTargets(requested, key) : null;
    if (targets == null || targets.isEmpty()) {
      // A key that may reach none of the alias's models is refused before the exchange (GenerationHandler).
      return new ModelChain(requested, List.of(requested), false);
    }
    return new ModelChain(requested, targets, true);
  }

  /** The name the client asked for: an alias, or a served model. */
  public String requested() {
    return requested;
  }

  public boolean isAlias() {
    return alias;
  }

  /** The model the request is trying now. */
  public String current() {
    return models.get(index);
  }

  /** Where in the chain the request is (0 = the first model). */
  public int position() {
    return index;
  }

  public List<String> models() {
    return models;
  }

  /** Whether a later model remains to fall back to. */
  public boolean hasNext() {
    return index + 1 < models.size();
  }

  /** Passes over the current model, for {@code why}, to the next (there must be one: see {@link #hasNext}). */
  public void passOver(String why) {
    if (passedOver == null) {
      passedOver = new ArrayList<>(models.size());
    }
    passedOver.add(current() + ": " + why);
    index++;
  }

  /** Goes back to the model at {@code position} (to wait there for room), forgetting the reasons given since. */
  public void restartAt(int position) {
    index = position;
    if (passedOver != null) {
      passedOver.clear();
    }
  }

  /** Why each model passed over was, "; "-separated; empty when none was. */
  public String passedOver() {
    return passedOver == null ? "" : String.join("; ", passedOver);
  }

  /**
   * The prompt's estimated size in tokens plus the completion the client allows ({@code max_tokens}, when it set
   * one): what must fit in a model's context. The gateway has no tokenizer: {@value #CHARS_PER_TOKEN} characters a
   * token, the rule of thumb for English with BPE tokenizers (as /v1/messages/count_tokens estimates).
   */
  public static long neededTokens(CompletionRequest request) {
    long prompt = (request.prompt() == null ? 0 : request.prompt().length() + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
    Integer maxTokens = request.sampling() == null ? null : request.sampling().maxTokens();
    return prompt + (maxTokens == null ? 0 : Math.max(0, maxTokens));
  }

  static final int CHARS_PER_TOKEN = 4;

  /**
   * Why {@code model}'s workers cannot hold a request needing {@code neededTokens}: every routable one reports a
   * context length, and the largest is smaller. Null when one may hold it, one does not say, or none is routable
   * (another rule decides then).
   */
  public static String tooLong(String model, List<WorkerState> workers, long neededTokens) {
    int largest = 0;
    boolean anyRoutable = false;
    for (WorkerState worker : workers) {
      if (!worker.routable()) {
        continue;
      }
      anyRoutable = true;
      int context = contextLengthOf(worker, model);
      if (context <= 0) {
        return null;
      }
      largest = Math.max(largest, context);
    }
    if (!anyRoutable || neededTokens <= largest) {
      return null;
    }
    return "the request needs about " + neededTokens + " tokens (the prompt estimated at " + CHARS_PER_TOKEN
        + " characters a token, plus max_tokens) and its workers' context length is " + largest;
  }

  /** The context length {@code worker} reports for {@code model}; 0 when it reports none. */
  static int contextLengthOf(WorkerState worker, String model) {
    // A worker's record gives one context length, its announced model's; one serving several models may hold
    // others with another length, so only its announced model's (or a one-model worker's) is taken as known.
    if (worker.model().equals(model) || worker.models().size() == 1) {
      return Math.max(0, worker.descriptor().contextLength());
    }
    return 0;
  }
}
