// Package testlogs builds OpenTelemetry log batches shaped like the audit
// records audithttp emits, for exporter, collector and benchmark tests.
package testlogs

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// Audit returns n records numbered from first, of service "orders":
// POST /api/orders/<i> answered 201, a small JSON request body, an hour ago
// a millisecond apart, each with a fresh UUIDv7 record id. edit, when set,
// changes record i after it is built.
func Audit(first, n int, edit func(i int, lr plog.LogRecord)) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "orders")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("github.com/otelaudit/otelaudit/instrumentation/audithttp")
	base := time.Now().UTC().Add(-time.Hour)
	for i := first; i < first+n; i++ {
		ts := base.Add(time.Duration(i) * time.Millisecond)
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(ts))
		lr.SetEventName(auditconv.EventHTTPServer)
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		a := lr.Attributes()
		a.PutStr(auditconv.RecordID, storetest.NewID(ts))
		a.PutStr(auditconv.HTTPRequestMethod, "POST")
		a.PutStr(auditconv.URLPath, fmt.Sprintf("/api/orders/%d", i))
		a.PutInt(auditconv.HTTPResponseStatusCode, 201)
		a.PutStr(auditconv.HTTPRequestBodyContent, `{"item":"book","qty":1}`)
		a.PutEmptySlice(auditconv.RequestHeaderKey("content-type")).AppendEmpty().SetStr("application/json")
		if edit != nil {
			edit(i, lr)
		}
	}
	return ld
}
