package io.switchboard.gateway.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.switchboard.protocol.TraceContext;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One span per request. Off (the default), a request's trace is only propagated: the client's
 * {@code traceparent} continued with a new span id, or a new trace ({@link TraceContext#continueOrStart}).
 * With {@code gateway.otlpTracesEndpoint} set, the gateway also records that span (model, worker, status,
 * tokens, time to first token) and exports it over OTLP/HTTP in batches, so a collector (Jaeger, Tempo, the
 * OpenTelemetry Collector) shows the gateway between the client and the backend's own spans.
 */
public final class RequestSpans {

  private static final TextMapGetter<Map<String, String>> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private final SdkTracerProvider provider;
  private final Tracer tracer;

  private RequestSpans(SdkTracerProvider provider) {
    this.provider = provider;
    this.tracer = provider == null ? null : provider.get("io.switchboard.gateway");
  }

  public static RequestSpans propagateOnly() {
    return new RequestSpans(null);
  }

  /** Exports to {@code endpoint} (e.g. http://collector:4318/v1/traces), as service "switchboard". */
  public static RequestSpans exportingTo(String endpoint, String nodeId) {
    OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder().setEndpoint(endpoint)
        .setTimeout(Duration.ofSeconds(5)).build();
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
            AttributeKey.stringKey("service.name"), "switchboard",
            AttributeKey.stringKey("service.instance.id"), nodeId))))
        .addSpanProcessor(BatchSpanProcessor.builder(exporter).setScheduleDelay(Duration.ofSeconds(1)).build())
        .build();
    return new RequestSpans(provider);
  }

  public boolean exporting() {
    return provider != null;
  }

  /** Starts the request's span under the client's trace context (header values, either may be null). */
  public RequestSpan start(String name, String traceparent, String tracestate) {
    if (tracer == null) {
      return new RequestSpan(null, TraceContext.continueOrStart(traceparent, tracestate,
          ThreadLocalRandom.current()));
    }
    Map<String, String> carrier = new HashMap<>();
    if (traceparent != null) {
      carrier.put("traceparent", traceparent);
    }
    if (TraceContext.bounded(tracestate) != null) {
      carrier.put("tracestate", tracestate);
    }
    Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), carrier, HEADERS);
    Span span = tracer.spanBuilder(name).setParent(parent).setSpanKind(SpanKind.SERVER).startSpan();
    var context = span.getSpanContext();
    String downstream = "00-" + context.getTraceId() + "-" + context.getSpanId() + "-"
        + context.getTraceFlags().asHex();
    return new RequestSpan(span, new TraceContext(downstream, traceparent != null ? TraceContext.bounded(tracestate)
        : null));
  }

  /** Sends what is buffered and stops; waits at most a few seconds (called off the event loop). */
  public void close() {
    if (provider != null) {
      provider.shutdown().join(5, TimeUnit.SECONDS);
    }
  }

  /** A request's span: the context to send downstream, and its end. */
  public static final class RequestSpan {
    private final Span span;
    private final TraceContext downstream;

    RequestSpan(Span span, TraceContext downstream) {
      this.span = span;
      this.downstream = downstream;
    }

    public TraceContext downstream() {
      return downstream;
    }

    /** Whether this span is recorded (exported): if not, its attributes need not be gathered. */
    public boolean recording() {
      return span != null;
    }

    /** Ends the span with the request's outcome; {@code attributes} values may be null (left out). */
    public void end(int status, String errorMessage, Map<String, Object> attributes) {
      if (span == null) {
        return;
      }
      span.setAttribute("http.response.status_code", status);
      attributes.forEach((key, value) -> {
        if (value instanceof Number number) {
          span.setAttribute(key, number.longValue());
        } else if (value instanceof Boolean flag) {
          span.setAttribute(key, flag);
        } else if (value != null) {
          span.setAttribute(key, String.valueOf(value));
        }
      });
      if (status >= 500) {
        span.setStatus(StatusCode.ERROR, errorMessage == null ? "status " + status : errorMessage);
      }
      span.end();
    }
  }
}
