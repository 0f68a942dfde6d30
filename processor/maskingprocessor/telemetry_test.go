package maskingprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/processor/maskingprocessor/internal/metadata"
)

// TestValuesMaskedByPlace checks otelcol_processor_masking_values_masked:
// one secret in each place is counted once, under that place, and the
// counts of a record add up to its audit.masking.count.
func TestValuesMaskedByPlace(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := new(consumertest.LogsSink)
	f := NewFactory()
	p, err := f.CreateLogs(context.Background(), set, f.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("password", "resource-secret")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	a := lr.Attributes()
	a.PutStr(auditconv.HTTPRequestMethod, "POST")
	a.PutEmptySlice(auditconv.RequestHeaderKey("Authorization")).AppendEmpty().SetStr("Bearer header-secret")
	a.PutStr(auditconv.URLQuery, "page=2&access_token=query-secret")
	a.PutEmptySlice(auditconv.RequestHeaderKey("Content-Type")).AppendEmpty().SetStr("application/json")
	a.PutStr(auditconv.HTTPRequestBodyContent, `{"name":"ann","password":"body-secret"}`)
	a.PutStr("api_key", "attribute-secret")
	lr.Body().SetEmptyMap().PutStr("client_secret", "log-body-secret")

	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	m, err := tel.GetMetric("otelcol_processor_masking_values_masked")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		place, _ := dp.Attributes.Value("place")
		got[place.AsString()] += dp.Value
	}
	want := map[string]int64{"header": 1, "query": 1, "body": 1, "attribute": 2, "log_body": 1}
	for place, n := range want {
		if got[place] != n {
			t.Errorf("place %s: counted %d, want %d (all: %v)", place, got[place], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("places counted: %v, want %v", got, want)
	}

	out := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	count, _ := out.Attributes().Get(auditconv.MaskingCount)
	// The record's count leaves out the resource attribute.
	if recordTotal := got["header"] + got["query"] + got["body"] + got["attribute"] - 1 + got["log_body"]; count.Int() != recordTotal {
		t.Errorf("%s = %d, the metric counts %d for the record", auditconv.MaskingCount, count.Int(), recordTotal)
	}
}
