package testlogs

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// Client returns a batch of one server record (Audit's) and one record of
// an outbound call shaped as audithttp.NewTransport emits it: url.full
// instead of the URL's parts, http.client.request.duration, and the
// error.type of a call that timed out mid-body.
func Client() plog.Logs {
	ld := Audit(0, 1, nil)
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	ts := time.Now().UTC().Add(-time.Hour).Add(time.Second)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(ts.Add(250 * time.Millisecond)))
	lr.SetEventName(auditconv.EventHTTPClient)
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText(auditconv.SeverityTextError)
	a := lr.Attributes()
	a.PutStr(auditconv.RecordID, storetest.NewID(ts))
	a.PutStr(auditconv.HTTPRequestMethod, "POST")
	a.PutStr(auditconv.URLFull, "https://psp.example.com:8443/v1/charges?api_key=****&amount=10")
	a.PutStr(auditconv.ServerAddress, "psp.example.com")
	a.PutInt(auditconv.ServerPort, 8443)
	a.PutInt(auditconv.HTTPResponseStatusCode, 200)
	a.PutDouble(auditconv.HTTPClientRequestDuration, 0.25)
	a.PutStr(auditconv.HTTPRequestBodyContent, `{"card":"****","amount":10}`)
	a.PutInt(auditconv.HTTPRequestBodySize, 27)
	a.PutStr(auditconv.HTTPResponseBodyContent, `{"status":"pen`)
	a.PutInt(auditconv.HTTPResponseBodySize, 40)
	a.PutStr(auditconv.ErrorType, auditconv.ErrorTypeTimeout)
	a.PutEmptySlice(auditconv.RequestHeaderKey("authorization")).AppendEmpty().SetStr("****")
	return ld
}

// ClientStored is how many records Client's batch stores.
const ClientStored = 2

// CheckClient checks that s holds Client's records: the outbound call in
// the same columns as a server record (method, scheme, host, path, query,
// status, duration, bodies), told apart by event_name.
func CheckClient(t *testing.T, s store.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clients, err := s.Query(ctx, store.Filter{EventName: auditconv.EventHTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	servers, err := s.Query(ctx, store.Filter{EventName: auditconv.EventHTTPServer})
	if err != nil {
		t.Fatal(err)
	}
	if len(clients) != 1 || len(servers) != 1 {
		t.Fatalf("%d client and %d server records, want 1 and 1", len(clients), len(servers))
	}
	c := clients[0]
	if c.Method != "POST" || c.Scheme != "https" || c.Host != "psp.example.com" || c.Path != "/v1/charges" ||
		c.Query != "api_key=****&amount=10" || c.Status != 200 || c.DurationMS != 250 || c.ErrorType != auditconv.ErrorTypeTimeout {
		t.Errorf("client record columns: %+v", c)
	}
	if c.RequestBody != `{"card":"****","amount":10}` || c.ResponseBody != `{"status":"pen` || c.ResponseBodySize != 40 ||
		len(c.RequestHeaders["authorization"]) != 1 {
		t.Errorf("client record bodies and headers: %+v", c)
	}
	if _, ok := c.Attributes[auditconv.URLFull]; ok {
		t.Errorf("url.full kept as an attribute besides its columns: %v", c.Attributes)
	}
	if servers[0].Path != "/api/orders/0" {
		t.Errorf("server record path %q", servers[0].Path)
	}
}
