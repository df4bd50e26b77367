package io.switchboard.runtime.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A setting of a {@link GenerateOptions} spec whose JSON the spec reads and writes itself, in {@code readJson} and
 * {@code writeJson}: a shape the generated converter has no form for (a map of lists, a section of its own), or one
 * whose errors must wait for {@code validate}, which knows the setting's path. Its getter and setter are still
 * generated unless the spec declares them.
 */
@Retention(RetentionPolicy.SOURCE)
@Target(ElementType.FIELD)
public @interface ReadByHand {
}
