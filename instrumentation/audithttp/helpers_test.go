package audithttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// recorder is an sdklog.Exporter that keeps every record it is given.
type recorder struct {
	mu      sync.Mutex
	recs    []sdklog.Record
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Export(_ context.Context, recs []sdklog.Record) error {
	r.mu.Lock()
	for _, rec := range recs {
		r.recs = append(r.recs, rec.Clone())
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	return nil
}

func (*recorder) Shutdown(context.Context) error   { return nil }
func (*recorder) ForceFlush(context.Context) error { return nil }

// wait returns the first n records, in the order their exchanges started,
// once they have arrived; it fails the test if they do not arrive within a
// generous bound. Records are emitted after the response, by a pool, so
// they may arrive in another order.
func (r *recorder) wait(t *testing.T, n int) []sdklog.Record {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		if len(r.recs) >= n {
			out := append([]sdklog.Record(nil), r.recs...)
			r.mu.Unlock()
			slices.SortStableFunc(out, func(a, b sdklog.Record) int { return a.Timestamp().Compare(b.Timestamp()) })
			return out[:n]
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waited for %d records, have %d", n, r.count())
		}
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.recs)
}

// setup starts an httptest.Server serving h wrapped by audithttp with a
// synchronous logger provider.
func setup(t *testing.T, h http.Handler, opts ...audithttp.Option) (*httptest.Server, *recorder) {
	t.Helper()
	rec := newRecorder()
	srv := httptest.NewServer(audithttp.NewHandler(h, "test-op", append([]audithttp.Option{audithttp.WithLoggerProvider(providerFor(t, rec))}, opts...)...))
	t.Cleanup(srv.Close)
	return srv, rec
}

// providerFor returns a synchronous logger provider exporting to rec.
// Duplicates are allowed, so that a duplicate key audithttp emitted would
// be seen by the tests instead of being hidden by the SDK.
func providerFor(t *testing.T, rec *recorder) *sdklog.LoggerProvider {
	t.Helper()
	lp := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(), sdklog.WithProcessor(sdklog.NewSimpleProcessor(rec)))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return lp
}

func attrs(rec sdklog.Record) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		m[string(kv.Key)] = kv.Value
		return true
	})
	return m
}

func str(t *testing.T, a map[string]attribute.Value, key string) string {
	t.Helper()
	v, ok := a[key]
	if !ok {
		t.Fatalf("attribute %s missing", key)
	}
	if v.Type() != attribute.STRING {
		t.Fatalf("attribute %s is %s, want STRING", key, v.Type())
	}
	return v.AsString()
}

func num(t *testing.T, a map[string]attribute.Value, key string) int64 {
	t.Helper()
	v, ok := a[key]
	if !ok {
		t.Fatalf("attribute %s missing", key)
	}
	if v.Type() != attribute.INT64 {
		t.Fatalf("attribute %s is %s, want INT64", key, v.Type())
	}
	return v.AsInt64()
}

func mustDo(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body []byte
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	return resp, body
}
