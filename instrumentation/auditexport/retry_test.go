package auditexport

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

type flaky struct {
	fails atomic.Int32 // failures left
	calls atomic.Int32
}

func (f *flaky) Export(context.Context, []sdklog.Record) error {
	f.calls.Add(1)
	if f.fails.Add(-1) >= 0 {
		return errors.New("connection refused")
	}
	return nil
}
func (*flaky) Shutdown(context.Context) error   { return nil }
func (*flaky) ForceFlush(context.Context) error { return nil }

func TestRetryingUntilSuccess(t *testing.T) {
	f := &flaky{}
	f.fails.Store(3)
	if err := Retrying(f).Export(context.Background(), make([]sdklog.Record, 1)); err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != 4 {
		t.Errorf("%d calls, want 4", f.calls.Load())
	}
}

func TestRetryingGivesUpAtTheDeadline(t *testing.T) {
	f := &flaky{}
	f.fails.Store(1 << 30)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := Retrying(f).Export(ctx, nil)
	if err == nil || err.Error() != "connection refused" {
		t.Errorf("err = %v, want the last export error", err)
	}
	if f.calls.Load() < 2 {
		t.Errorf("%d calls: no retry", f.calls.Load())
	}
}
