package io.switchboard.runtime.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A number setting of a {@link GenerateOptions} spec that must be finite and at least 0 (NaN and infinity fail), checked
 * by the generated {@code validate(path)} with {@link OptionChecks#finiteNonNegative}'s message.
 */
@Retention(RetentionPolicy.SOURCE)
@Target(ElementType.FIELD)
public @interface FiniteNonNegative {

  /** What a special value does, shown after the bound, e.g. {@code " (0 = instant)"}; empty for none. */
  String meaning() default "";
}
