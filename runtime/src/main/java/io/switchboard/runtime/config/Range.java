package io.switchboard.runtime.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The whole numbers a setting of a {@link GenerateOptions} spec accepts. The generated class checks it in
 * {@code validate(path)} before the spec's own checks, with {@link OptionChecks}'s messages: {@code KEY must be >= MIN}
 * when there is no upper bound, {@code KEY must be between MIN and MAX} when there is.
 */
@Retention(RetentionPolicy.SOURCE)
@Target(ElementType.FIELD)
public @interface Range {

  long min();

  long max() default Long.MAX_VALUE;

  /** What a special value does, shown after the bounds, e.g. {@code " (0 = no limit)"}; empty for none. */
  String meaning() default "";
}
