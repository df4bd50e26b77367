package io.switchboard.gateway.models;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Says when a worker starts (or stops) serving a model under a name that is one of the gateway's aliases. The alias
 * wins: a request for that name goes to the alias's models, and the worker's model cannot be asked for by its own
 * name. A node's own workers are checked at start (an error); workers elsewhere can only be seen as they join, so this
 * logs it once when it begins, and once when it ends. Bounded by the number of aliases. Used on one event loop.
 */
public final class AliasShadowWatch {

  private static final Logger log = LoggerFactory.getLogger(AliasShadowWatch.class);

  private final ModelAliases aliases;
  private final Set<String> shadowing = new HashSet<>();

  public AliasShadowWatch(ModelAliases aliases) {
    this.aliases = aliases;
  }

  /** Compares the aliases with the models the cluster serves now. */
  public void check(Set<String> served) {
    if (aliases.isEmpty()) {
      return;
    }
    List<String> now = aliases.shadowing(served);
    for (String alias : now) {
      if (shadowing.add(alias)) {
        log.warn("a worker serves a model named as one of the gateway's aliases: requests for that name go to the "
                + "alias's models, and this model cannot be asked for by its own name; rename the alias "
                + "(gateway.models.aliases) or the worker's model", kv("alias", alias),
            kv("aliasOf", aliases.targetsOf(alias)));
      }
    }
    shadowing.removeIf(alias -> {
      if (now.contains(alias)) {
        return false;
      }
      log.info("no worker serves a model named as the alias any more", kv("alias", alias));
      return true;
    });
  }

  /** The aliases that shadow a served model now. */
  public Set<String> shadowing() {
    return Set.copyOf(shadowing);
  }
}
