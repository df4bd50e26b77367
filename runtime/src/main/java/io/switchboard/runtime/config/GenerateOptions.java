package io.switchboard.runtime.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an options spec: an abstract class named {@code XSpec} whose instance fields are the settings, each with its
 * default as initializer and its documentation as Javadoc. At compile time the options processor (module
 * {@code options-processor}) writes {@code X extends XSpec} beside it: a Vert.x-style data object with a no-argument
 * constructor, a {@code JsonObject} constructor, {@code toJson()}, a getter ({@code isX} for booleans) and a fluent
 * setter for each setting. So a setting is declared once, and its JSON key, getter, setter and environment variable
 * (derived from the key by the config loader) cannot drift apart.
 *
 * <p>What the spec writes itself wins: a getter or setter it declares is not generated (a setter that normalizes its
 * value, a getter that resolves one); a field marked {@link ReadByHand} is left out of the generated JSON, and the
 * spec reads and writes it in {@code protected void readJson(JsonObject)} and {@code protected void
 * writeJson(JsonObject)}, called after the generated reading and before the generated writing. A {@code transient}
 * field is state, not a setting: no accessors, no JSON. A list or set setting is copied when set.
 */
@Retention(RetentionPolicy.SOURCE)
@Target(ElementType.TYPE)
public @interface GenerateOptions {

  /** False for a spec that reads and writes its JSON itself: only the accessors are generated. */
  boolean json() default true;
}
