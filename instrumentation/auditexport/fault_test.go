package auditexport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// makeReadOnly makes dir refuse new and removed entries until the returned
// function is called. chmod does not stop root, so as root the directory
// is made immutable (chattr +i), which does.
func makeReadOnly(t *testing.T, dir string) (restore func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		return func() { os.Chmod(dir, 0o700) }
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Fatalf("chattr +i: %v: %s", err, out)
	}
	var once sync.Once
	restore = func() {
		once.Do(func() {
			if out, err := exec.Command("chattr", "-i", dir).CombinedOutput(); err != nil {
				t.Errorf("chattr -i: %v: %s", err, out)
			}
		})
	}
	t.Cleanup(restore)
	return restore
}

// TestReadOnlyDirectoryFailsClosed: a spool directory that stops taking
// writes mid-run shows in Health, and an audithttp handler with
// WithFailClosed(Health) answers 503 without calling the handler; when the
// directory recovers, so do both, and every record accepted is delivered.
func TestReadOnlyDirectoryFailsClosed(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, newSink(), WithExportInterval(time.Millisecond), WithMaxBytes(64<<10))
	var served atomic.Int32
	srv := httptest.NewServer(audithttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
	}), "pay", audithttp.WithLoggerProvider(h.lp), audithttp.WithFailClosed(h.p.Health)))
	defer srv.Close()
	get := func() int {
		resp, err := srv.Client().Get(srv.URL + "/pay")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("status %d", code)
	}
	h.sink.wait(t, 1)

	restore := makeReadOnly(t, dir)
	// Exports go on; recording their progress (and, later, starting a
	// segment) now fails.
	statuses := map[int]int{}
	for h.p.Health() == nil {
		statuses[get()]++
		if statuses[200] > 10000 {
			t.Fatal("health never reported the read-only directory")
		}
	}
	t.Logf("health: %v", h.p.Health())
	before := served.Load()
	// Every request while the directory stays read-only: exports go on
	// meanwhile, and none of them may clear the error.
	for i := range 50 {
		if code := get(); code != http.StatusServiceUnavailable {
			t.Fatalf("request %d: status %d while the spool fails, want 503", i, code)
		}
	}
	if served.Load() != before {
		t.Error("the handler was called while failing closed")
	}

	restore()
	waitFor(t, "health to recover", func() bool {
		h.p.OnEmit(context.Background(), newRecord(-1, 10)) // writes make progress to record
		return h.p.Health() == nil
	})
	if code := get(); code != 200 {
		t.Fatalf("status %d after recovery", code)
	}
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := h.metric(t, "otelaudit.spool.dropped"); v != 0 {
		t.Errorf("%v records dropped: the open segment kept taking them", v)
	}
}

// limitedExporter refuses requests whose records' bodies add up to more
// than limit bytes, as a collector refuses a request over its size limit.
type limitedExporter struct {
	*sink
	limit int
}

func (l *limitedExporter) Export(ctx context.Context, recs []sdklog.Record) error {
	n := 0
	for _, r := range recs {
		n += len(r.Body().AsString())
	}
	if n > l.limit {
		return errors.New("413 request entity too large")
	}
	return l.sink.Export(ctx, recs)
}

// TestOversizedRecord: a record too large for any export request is
// refused by OnEmit with ErrRecordTooLarge and counted; a record that fits a
// request only by itself travels alone; neither holds up the others.
func TestOversizedRecord(t *testing.T) {
	exp := &limitedExporter{sink: newSink(), limit: 100 << 10}
	h := newHarness(t, t.TempDir(), exp, WithExportMaxBytes(100<<10), WithExportMaxBatchSize(100))
	h.emit(t, 0, 5, 1000)
	if err := h.p.OnEmit(context.Background(), newRecord(5, 200<<10)); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("200 KiB record: err = %v, want ErrRecordTooLarge", err)
	}
	h.emit(t, 6, 7, 90<<10) // fits a request alone, not with the others
	h.emit(t, 7, 12, 1000)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := exp.ids(); !slices.Equal(got, []int64{0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11}) {
		t.Fatalf("got %v", got)
	}
	if v := h.metric(t, "otelaudit.spool.dropped", reason(dropTooLarge)); v != 1 {
		t.Errorf("dropped{too_large} = %v, want 1", v)
	}
	if v := h.metric(t, "otelaudit.spool.export.failures"); v != 0 {
		t.Errorf("%v export failures: a batch went over the limit", v)
	}
}
