package audithttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// blockingExporter blocks every export until released.
type blockingExporter struct{ release chan struct{} }

func (b *blockingExporter) Export(ctx context.Context, _ []sdklog.Record) error {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil
}
func (*blockingExporter) Shutdown(context.Context) error   { return nil }
func (*blockingExporter) ForceFlush(context.Context) error { return nil }

type failingExporter struct{}

func (failingExporter) Export(context.Context, []sdklog.Record) error {
	return errors.New("audit database down")
}
func (failingExporter) Shutdown(context.Context) error   { return nil }
func (failingExporter) ForceFlush(context.Context) error { return nil }

// panickingProvider is a LoggerProvider whose loggers panic on Emit.
type panickingProvider struct{ embedded.LoggerProvider }

func (panickingProvider) Logger(string, ...log.LoggerOption) log.Logger { return panickingLogger{} }

type panickingLogger struct{ embedded.Logger }

func (panickingLogger) Emit(context.Context, log.Record)                    { panic("broken pipeline") }
func (panickingLogger) Enabled(context.Context, log.EnabledParameters) bool { return true }

func TestBrokenLoggingNeverAffectsTheResponse(t *testing.T) {
	block := &blockingExporter{release: make(chan struct{})}
	defer close(block.release)
	providers := map[string]log.LoggerProvider{
		"blocking exporter": sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(block, sdklog.WithMaxQueueSize(2), sdklog.WithExportMaxBatchSize(1)))),
		"failing exporter":  sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(failingExporter{}))),
		"failing simple":    sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(failingExporter{}))),
		"panicking logger":  panickingProvider{},
	}
	for name, lp := range providers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(audithttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "fine")
			}), "op", audithttp.WithLoggerProvider(lp)))
			defer srv.Close()
			for i := 0; i < 50; i++ {
				resp, body := mustDo(t, srv.Client(), mustReq("GET", srv.URL, nil))
				if resp.StatusCode != 200 || string(body) != "fine" {
					t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
				}
			}
		})
	}
}
