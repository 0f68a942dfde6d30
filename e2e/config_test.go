package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/internal/testutil/testconfig"
)

var shippedConfigs = []string{"postgres.yaml", "mongo.yaml", "dual.yaml"}

// metricsReader returns the host and port of the Prometheus reader of the
// collector's own metrics in a resolved shipped config.
func metricsReader(t *testing.T, config string) (host any, port any) {
	t.Helper()
	readers, ok := testconfig.Resolve(t, filepath.Join(root, "config", config)).Get("service::telemetry::metrics::readers").([]any)
	if !ok || len(readers) != 1 {
		t.Fatalf("%s: service::telemetry::metrics::readers is %v, want one reader", config, readers)
	}
	v := readers[0]
	for _, key := range []string{"pull", "exporter", "prometheus"} {
		m, _ := v.(map[string]any)
		if v = m[key]; v == nil {
			t.Fatalf("%s: the metrics reader has no %s: %v", config, key, readers[0])
		}
	}
	prom, _ := v.(map[string]any)
	return prom["host"], prom["port"]
}

// TestShippedConfigsMetricsAddress: the collector's own metrics listen on
// localhost:8888 as by default, unless AUDIT_METRICS (port) and
// AUDIT_METRICS_HOST say otherwise.
func TestShippedConfigsMetricsAddress(t *testing.T) {
	for _, config := range shippedConfigs {
		t.Run(config, func(t *testing.T) {
			t.Setenv("AUDIT_METRICS", "")
			t.Setenv("AUDIT_METRICS_HOST", "")
			os.Unsetenv("AUDIT_METRICS")
			os.Unsetenv("AUDIT_METRICS_HOST")
			if host, port := metricsReader(t, config); host != "localhost" || port != 8888 {
				t.Errorf("default metrics address %v:%v (%T), want localhost:8888", host, port, port)
			}
			t.Setenv("AUDIT_METRICS", "9464")
			t.Setenv("AUDIT_METRICS_HOST", "0.0.0.0")
			if host, port := metricsReader(t, config); host != "0.0.0.0" || port != 9464 {
				t.Errorf("metrics address %v:%v (%T) with AUDIT_METRICS=9464 AUDIT_METRICS_HOST=0.0.0.0", host, port, port)
			}
		})
	}
}

// TestTwoCollectorsShareAHost starts two collectors of each shipped config
// side by side, each with its own AUDIT_METRICS (and its own OTLP, health
// and queue settings), and reads the metrics of both.
func TestTwoCollectorsShareAHost(t *testing.T) {
	needCollector(t)
	for _, config := range shippedConfigs {
		t.Run(config, func(t *testing.T) {
			envs := []*env{newEnv(t), newEnv(t)}
			var collectors []*process
			for _, e := range envs {
				collectors = append(collectors, startCollector(t, e, config))
			}
			for i, e := range envs {
				url := "http://localhost:" + e.metrics + "/metrics"
				resp, err := http.Get(url)
				if err != nil {
					t.Fatalf("collector %d: %v\n%s", i, err, tail(collectors[i].out.String()))
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "otelcol_") {
					t.Errorf("collector %d: GET %s: %d %v\n%.500s", i, url, resp.StatusCode, err, body)
				}
			}
			for i, p := range collectors {
				select {
				case <-p.done:
					t.Errorf("collector %d exited:\n%s", i, tail(p.out.String()))
				default:
				}
				p.stop(t)
			}
		})
	}
}
