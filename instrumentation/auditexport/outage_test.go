package auditexport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// outageCollector is an OTLP/HTTP endpoint that answers 503 until up is
// closed, then counts every record id it receives.
type outageCollector struct {
	up       chan struct{}
	mu       sync.Mutex
	seen     map[int64]int
	refusals int
	changed  chan struct{}
}

func (c *outageCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	select {
	case <-c.up:
	default:
		c.mu.Lock()
		c.refusals++
		c.mu.Unlock()
		http.Error(w, "collector restarting", http.StatusServiceUnavailable)
		return
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	rls := req.Logs().ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				if v, ok := lrs.At(k).Attributes().Get("n"); ok {
					c.seen[v.Int()]++
				}
			}
		}
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// TestFiveMinuteOutage: the collector refuses every export for five
// minutes under steady load, then recovers: every record is delivered
// exactly once. It runs in parallel with the package's other tests; -short
// makes the outage 5 s.
func TestFiveMinuteOutage(t *testing.T) {
	t.Parallel()
	outage := 5 * time.Minute
	if testing.Short() {
		outage = 5 * time.Second
	}
	coll := &outageCollector{up: make(chan struct{}), seen: map[int64]int{}, changed: make(chan struct{})}
	srv := httptest.NewServer(coll)
	defer srv.Close()
	exp, err := otlploghttp.New(context.Background(), otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	dp, err := NewDurableProcessor(exp, t.TempDir(), WithExportInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(dp))
	defer lp.Shutdown(context.Background())
	logger := lp.Logger("outage")

	// Steady load: 50 records a second, through the outage and 10 s past it.
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	n := int64(0)
	for time.Since(start) < outage+10*time.Second {
		<-tick.C
		if time.Since(start) >= outage {
			select {
			case <-coll.up:
			default:
				close(coll.up)
			}
		}
		var r log.Record
		r.SetEventName("http.server.audit")
		r.AddAttributes(attribute.Int64("n", n), attribute.String("http.request.method", "POST"))
		logger.Emit(context.Background(), r)
		n++
	}
	tick.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := lp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	coll.mu.Lock()
	defer coll.mu.Unlock()
	if coll.refusals == 0 {
		t.Fatal("the collector never refused: no outage was tested")
	}
	for i := range n {
		if c := coll.seen[i]; c != 1 {
			t.Errorf("record %d delivered %d times, want once", i, c)
		}
	}
	t.Logf("%d records, %d refused exports during the outage", n, coll.refusals)
}
