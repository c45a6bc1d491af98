import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export interface Tracing {
  /** Worker and client plugin: spans for workflow starts, workflow runs, activities, signals and updates. */
  plugin: OpenTelemetryPlugin;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing through Temporal's official interceptors (as a plugin). Spans carry workflow and
 * activity types and ids, never payloads. The span processor is given by tests; otherwise spans go by
 * OTLP/HTTP to the endpoint the standard OTEL_EXPORTER_OTLP_* variables name.
 */
export function startTracing(options: { serviceName: string; spanProcessor?: SpanProcessor }): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName });
  const spanProcessor = options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Activity and client spans use the global tracer, and need the async context manager and W3C
  // propagator the Node provider registers to nest and to travel in Temporal headers; workflow spans
  // go through the plugin's sink.
  provider.register();
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor }),
    shutdown: () => provider.shutdown(),
  };
}
