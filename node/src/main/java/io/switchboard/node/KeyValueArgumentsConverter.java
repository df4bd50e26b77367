package io.switchboard.node;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import net.logstash.logback.argument.StructuredArgument;

/**
 * Renders a log event's structured arguments as {@code key=value} pairs for the readable console format
 * (the JSON format writes them as fields).
 */
public final class KeyValueArgumentsConverter extends ClassicConverter {

  @Override
  public String convert(ILoggingEvent event) {
    Object[] arguments = event.getArgumentArray();
    if (arguments == null) {
      return "";
    }
    StringBuilder text = new StringBuilder();
    for (Object argument : arguments) {
      if (argument instanceof StructuredArgument structured) {
        text.append(' ').append(structured);
      }
    }
    return text.toString();
  }
}
