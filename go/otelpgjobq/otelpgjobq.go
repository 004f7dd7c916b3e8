// Package otelpgjobq traces and measures pgjobq operations with OpenTelemetry.
//
// [NewHook] returns a [pgjobq.Hook]; pass it to [pgjobq.Instrument] or in [pgjobq.Config].Hooks:
//
//	client, err := pgjobq.NewClient(ctx, pool, &pgjobq.Config{Hooks: []pgjobq.Hook{otelpgjobq.NewHook()}})
//
// Every statement the driver runs becomes a span and a measurement that follow the OpenTelemetry
// semantic conventions for messaging and databases (schema [semconv.SchemaURL]):
//
//   - span name "<operation> <queue>" ("send emails"), or "pgjobq <operation>" when the
//     operation has no queue ("pgjobq ack");
//   - span kind CLIENT: pgjobq's operations are synchronous calls to the database. The
//     conventions give PRODUCER to a send only when its span context travels with the message
//     (pgjobq does not propagate one), and CLIENT to receive and settle operations (CONSUMER is
//     for "process" spans, which belong to the application's handler);
//   - attributes messaging.system "pgjobq", messaging.operation.name, messaging.operation.type
//     ("send" for send, "receive" for receive, "settle" for ack, ack_many, nack and release;
//     unset for the others), messaging.destination.name (the queue), db.system.name
//     "postgresql", db.query.text (the statement as sent: the driver's are parameterized, and
//     argument values are never recorded),
//     and messaging.batch.message_count when a send or receive carried more than one job;
//   - on failure: the error recorded on the span, status Error, error.type, and
//     db.response.status_code for a PostgreSQL error;
//   - the histogram messaging.client.operation.duration (seconds) with the messaging.*
//     attributes above and error.type on failure.
//
// error.type is the SQLSTATE for errors the server raised (PJ001 for an unknown queue; see the
// SQL API reference for pgjobq's codes) and the Go type of the error otherwise.
package otelpgjobq

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/pgjobq/pgjobq/go/pgjobq"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/pgjobq/pgjobq/go/otelpgjobq"

// durationBuckets are the bucket boundaries the conventions advise for
// messaging.client.operation.duration.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Option configures [NewHook].
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider makes the hook create spans with tp. Default: otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider makes the hook record metrics with mp. Default: otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// hook is the [pgjobq.Hook] of [NewHook].
type hook struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
}

// spanKey finds a hook's span in the context After receives; keyed by hook so two hooks (or
// another hook starting spans after this one) do not take each other's span.
type spanKey struct{ h *hook }

// NewHook returns a hook that traces and measures every statement of the driver (see the
// package documentation for what it records).
func NewHook(opts ...Option) pgjobq.Hook {
	var c config
	for _, opt := range opts {
		opt(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	meter := c.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	duration, err := meter.Float64Histogram("messaging.client.operation.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of messaging operation initiated by a producer or consumer client."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		otel.Handle(err) // the histogram returned with an error still works (a no-op at worst)
	}
	return &hook{
		tracer:   c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		duration: duration,
	}
}

// Before starts the statement's span.
func (h *hook) Before(ctx context.Context, ev *pgjobq.Event) context.Context {
	attrs := append(messagingAttrs(ev), semconv.DBSystemNamePostgreSQL, semconv.DBQueryText(ev.SQL))
	ctx, span := h.tracer.Start(ctx, spanName(ev),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(ev.Start),
		trace.WithAttributes(attrs...))
	return context.WithValue(ctx, spanKey{h}, span)
}

// After ends the span and records the duration.
func (h *hook) After(ctx context.Context, ev *pgjobq.Event) {
	attrs := messagingAttrs(ev)
	if ev.Err != nil {
		attrs = append(attrs, errorType(ev.Err))
	}
	h.duration.Record(ctx, ev.Duration.Seconds(), metric.WithAttributes(attrs...))

	span, ok := ctx.Value(spanKey{h}).(trace.Span)
	if !ok {
		return
	}
	if ev.Rows > 1 && (ev.Op == "send" || ev.Op == "send_batch" || ev.Op == "receive") {
		span.SetAttributes(semconv.MessagingBatchMessageCount(int(ev.Rows)))
	}
	if ev.Err != nil {
		span.SetAttributes(errorType(ev.Err))
		var pgErr *pgconn.PgError
		if errors.As(ev.Err, &pgErr) {
			span.SetAttributes(semconv.DBResponseStatusCode(pgErr.Code))
		}
		span.RecordError(ev.Err)
		span.SetStatus(codes.Error, ev.Err.Error())
	}
	span.End(trace.WithTimestamp(ev.Start.Add(ev.Duration)))
}

// spanName is "<op> <queue>", or "pgjobq <op>" without a queue ("pgjobq" without either: a
// statement run through an instrumented DB outside the driver's functions).
func spanName(ev *pgjobq.Event) string {
	switch {
	case ev.Op == "":
		return "pgjobq"
	case ev.Queue == "":
		return "pgjobq " + ev.Op
	default:
		return ev.Op + " " + ev.Queue
	}
}

// messagingAttrs are the attributes shared by the span and the histogram.
func messagingAttrs(ev *pgjobq.Event) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, semconv.MessagingSystemKey.String("pgjobq"))
	if ev.Op != "" {
		attrs = append(attrs, semconv.MessagingOperationName(ev.Op))
	}
	if t, ok := operationType(ev.Op); ok {
		attrs = append(attrs, t)
	}
	if ev.Queue != "" {
		attrs = append(attrs, semconv.MessagingDestinationName(ev.Queue))
	}
	return attrs
}

// operationType maps a driver operation to messaging.operation.type.
func operationType(op string) (attribute.KeyValue, bool) {
	switch op {
	case "send", "send_batch":
		return semconv.MessagingOperationTypeSend, true
	case "receive":
		return semconv.MessagingOperationTypeReceive, true
	case "ack", "ack_many", "nack", "release":
		return semconv.MessagingOperationTypeSettle, true
	}
	return attribute.KeyValue{}, false
}

// errorType is the SQLSTATE of a server error, or the Go type of any other error.
func errorType(err error) attribute.KeyValue {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code != "" {
		return semconv.ErrorTypeKey.String(pgErr.Code)
	}
	return semconv.ErrorType(err)
}
