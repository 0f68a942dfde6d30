package storeexporter

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
)

// queuedRequest returns a request of n audit records with 2 KB JSON
// bodies, as exporterhelper's own encoding reads it, and that encoding.
func queuedRequest(t testing.TB, n int) (xexporterhelper.Request, s2Encoding) {
	t.Helper()
	body := `{"items":[` + strings.Repeat(`{"sku":"SKU-00001","name":"Item","qty":1},`, 40) + `{}]}`
	ld := testlogs.Audit(0, n, func(_ int, lr plog.LogRecord) {
		lr.Attributes().PutStr(auditconv.HTTPRequestBodyContent, body)
	})
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	enc := queueBatchSettings().Encoding.(s2Encoding)
	_, req, err := enc.inner.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	return req, enc
}

// TestQueueEncodingRoundTrip: a request the persistent queue stores comes
// back the same, in fewer bytes than exporterhelper's own encoding.
func TestQueueEncodingRoundTrip(t *testing.T) {
	req, enc := queuedRequest(t, 100)
	plain, err := enc.inner.Marshal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	packed, err := enc.Marshal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(packed, s2Magic) || len(packed) >= len(plain)/2 {
		t.Errorf("queued %d bytes (prefix %q) for %d plain: want the S2 prefix and at most half", len(packed), packed[:len(s2Magic)], len(plain))
	}
	_, back, err := enc.Unmarshal(packed)
	if err != nil {
		t.Fatal(err)
	}
	again, err := enc.inner.Marshal(context.Background(), back)
	if err != nil {
		t.Fatal(err)
	}
	if back.ItemsCount() != 100 || !bytes.Equal(again, plain) {
		t.Errorf("round trip: %d records, same bytes %v", back.ItemsCount(), bytes.Equal(again, plain))
	}
}

// TestQueueEncodingReadsEarlierQueues: requests queued by a collector of an
// earlier version, in exporterhelper's own encoding, are still delivered
// after an upgrade.
func TestQueueEncodingReadsEarlierQueues(t *testing.T) {
	req, enc := queuedRequest(t, 10)
	plain, err := enc.inner.Marshal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	_, back, err := enc.Unmarshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if back.ItemsCount() != 10 {
		t.Errorf("earlier queue item: %d records, want 10", back.ItemsCount())
	}
}

// TestQueueEncodingCorrupt: a damaged compressed request is an error, not
// a request of garbage.
func TestQueueEncodingCorrupt(t *testing.T) {
	req, enc := queuedRequest(t, 10)
	packed, err := enc.Marshal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := enc.Unmarshal(packed[:len(packed)/2]); err == nil || !strings.Contains(err.Error(), "decompress") {
		t.Errorf("truncated request: %v, want a decompression error", err)
	}
}

// BenchmarkQueueEncoding measures what compression costs a request of 1000
// records on its way into the queue and out: plain is exporterhelper's own
// encoding, s2 this one; queued-bytes/op is what the file storage writes.
func BenchmarkQueueEncoding(b *testing.B) {
	req, enc := queuedRequest(b, 1000)
	for _, c := range []struct {
		name string
		enc  interface {
			Marshal(context.Context, xexporterhelper.Request) ([]byte, error)
			Unmarshal([]byte) (context.Context, xexporterhelper.Request, error)
		}
	}{{"plain", enc.inner}, {"s2", enc}} {
		b.Run(c.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				buf, err := c.enc.Marshal(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.enc.Unmarshal(buf); err != nil {
					b.Fatal(err)
				}
				n = len(buf)
			}
			b.ReportMetric(float64(n), "queued-bytes/op")
		})
	}
}
