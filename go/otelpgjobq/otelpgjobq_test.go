package otelpgjobq_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
	"github.com/pgjobq/pgjobq/go/otelpgjobq"
	"github.com/pgjobq/pgjobq/go/pgjobq"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// bundle is a test database with queue "q", a hook on in-memory exporters, and the pool
// instrumented with it.
type bundle struct {
	db     pgjobq.DB
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func setup(t *testing.T) *bundle {
	t.Helper()
	pg := pgtest.New(t)
	require.NoError(t, pgjobq.CreateQueue(context.Background(), pg.Pool, "q", nil))
	b := &bundle{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	hook := otelpgjobq.NewHook(
		otelpgjobq.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b.spans))),
		otelpgjobq.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(b.reader))))
	b.db = pgjobq.Instrument(pg.Pool, hook)
	return b
}

// attrs returns a span's attributes by key.
func attrs(span sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range span.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// durationPoints returns the data points of messaging.client.operation.duration.
func durationPoints(t *testing.T, reader *sdkmetric.ManualReader) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "messaging.client.operation.duration" {
				require.Equal(t, "s", m.Unit)
				return m.Data.(metricdata.Histogram[float64]).DataPoints
			}
		}
	}
	t.Fatal("no messaging.client.operation.duration histogram")
	return nil
}

func TestHook(t *testing.T) {
	t.Parallel()

	t.Run("SendAndReceive", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := context.Background()
		_, err := pgjobq.SendBatch(ctx, b.db, "q", []string{"a", "b"}, nil)
		require.NoError(t, err)
		jobs, err := pgjobq.Receive[string](ctx, b.db, "q", &pgjobq.ReceiveOptions{MaxJobs: 10})
		require.NoError(t, err)
		require.Len(t, jobs, 2)
		_, err = pgjobq.Ack(ctx, b.db, jobs[0].Lease, nil)
		require.NoError(t, err)

		spans := b.spans.Ended()
		require.Len(t, spans, 3)
		send, receive, ack := spans[0], spans[1], spans[2]

		require.Equal(t, "send q", send.Name())
		require.Equal(t, trace.SpanKindClient, send.SpanKind())
		a := attrs(send)
		require.Equal(t, "pgjobq", a["messaging.system"].AsString())
		require.Equal(t, "q", a["messaging.destination.name"].AsString())
		require.Equal(t, "send", a["messaging.operation.name"].AsString())
		require.Equal(t, "send", a["messaging.operation.type"].AsString())
		require.Equal(t, "postgresql", a["db.system.name"].AsString())
		require.Contains(t, a["db.query.text"].AsString(), "pgjobq.send_batch(")
		require.Equal(t, int64(2), a["messaging.batch.message_count"].AsInt64())
		require.Equal(t, codes.Unset, send.Status().Code)

		require.Equal(t, "receive q", receive.Name())
		require.Equal(t, trace.SpanKindClient, receive.SpanKind())
		a = attrs(receive)
		require.Equal(t, "receive", a["messaging.operation.type"].AsString())
		require.Equal(t, int64(2), a["messaging.batch.message_count"].AsInt64())
		require.Contains(t, a["db.query.text"].AsString(), "pgjobq.receive(")

		require.Equal(t, "pgjobq ack", ack.Name())
		a = attrs(ack)
		require.Equal(t, "settle", a["messaging.operation.type"].AsString())
		require.NotContains(t, a, attribute.Key("messaging.destination.name"))
		require.NotContains(t, a, attribute.Key("messaging.batch.message_count"), "one job is not a batch")

		var count uint64
		for _, p := range durationPoints(t, b.reader) {
			count += p.Count
			_, hasError := p.Attributes.Value("error.type")
			require.False(t, hasError)
		}
		require.Equal(t, uint64(3), count)
	})

	t.Run("FailingStatement", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := pgjobq.Send(context.Background(), b.db, "nope", "a", nil)
		require.ErrorIs(t, err, pgjobq.ErrQueueNotFound)

		spans := b.spans.Ended()
		require.Len(t, spans, 1)
		span := spans[0]
		require.Equal(t, "send nope", span.Name())
		require.Equal(t, codes.Error, span.Status().Code)
		a := attrs(span)
		require.Equal(t, "PJ001", a["error.type"].AsString())
		require.Equal(t, "PJ001", a["db.response.status_code"].AsString())
		require.Len(t, span.Events(), 1)
		require.Equal(t, "exception", span.Events()[0].Name)

		points := durationPoints(t, b.reader)
		require.Len(t, points, 1)
		require.Equal(t, uint64(1), points[0].Count)
		errType, ok := points[0].Attributes.Value("error.type")
		require.True(t, ok)
		require.Equal(t, "PJ001", errType.AsString())
		op, _ := points[0].Attributes.Value("messaging.operation.name")
		require.Equal(t, "send", op.AsString())
	})

	t.Run("StatementOutsideTheDriver", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var id int64
		require.NoError(t, b.db.QueryRow(context.Background(), `SELECT pgjobq.send('q', '{}')`).Scan(&id))

		spans := b.spans.Ended()
		require.Len(t, spans, 1)
		require.Equal(t, "pgjobq", spans[0].Name())
		a := attrs(spans[0])
		require.Equal(t, `SELECT pgjobq.send('q', '{}')`, a["db.query.text"].AsString())
		require.NotContains(t, a, attribute.Key("messaging.operation.name"))
	})
}
