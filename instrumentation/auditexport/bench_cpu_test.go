package auditexport

import (
	"context"
	"errors"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// failing is an exporter that always fails: the sender backs off and the
// records stay in the spool.
type failing struct{}

func (failing) Export(context.Context, []sdklog.Record) error { return errors.New("collector down") }
func (failing) Shutdown(context.Context) error                { return nil }
func (failing) ForceFlush(context.Context) error              { return nil }

// cpuMeter measures the CPU time (user and system) of the whole process
// over a benchmark: work moved to background goroutines shows here and
// not in ns/op.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) *cpuMeter { return &cpuMeter{b: b, start: processCPU(b)} }

// report adds the cpu-ns/op metric.
func (m *cpuMeter) report() {
	m.b.ReportMetric(float64(processCPU(m.b)-m.start)/float64(m.b.N), "cpu-ns/op")
}
