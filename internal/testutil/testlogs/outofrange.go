package testlogs

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// OutOfRangeCount is the number of records of OutOfRange, and
// OutOfRangeStored how many of them a store keeps (one reuses an id).
const (
	OutOfRangeCount  = 300
	OutOfRangeStored = 299
)

// BigBody is a request body size over MongoDB's 16 MiB document limit, for
// record 90 of OutOfRange.
const BigBody = 30 << 20

// OutOfRange returns 300 audit records (Audit(0, 300)) among which some
// carry what a hostile or careless producer can send: a NaN attribute (10),
// a +Inf duration (20), a status of 2^32+200 (30), the largest OTLP
// timestamps (40), no timestamps at all (50), an attribute key and a header
// name that are not UTF-8 (60), the id of record 79 with another timestamp
// (80), and with bigBody > 0 a request body of that size (90).
func OutOfRange(bigBody int) plog.Logs {
	var id79 string
	return Audit(0, OutOfRangeCount, func(i int, lr plog.LogRecord) {
		a := lr.Attributes()
		switch i {
		case 10:
			a.PutDouble("ratio", math.NaN())
		case 20:
			a.PutDouble(auditconv.HTTPServerRequestDuration, math.Inf(1))
		case 30:
			a.PutInt(auditconv.HTTPResponseStatusCode, 1<<32+200)
		case 40:
			lr.SetTimestamp(pcommon.Timestamp(math.MaxUint64))
			lr.SetObservedTimestamp(pcommon.Timestamp(math.MaxUint64))
		case 50:
			lr.SetTimestamp(0)
			lr.SetObservedTimestamp(0)
		case 60:
			a.PutStr("bad\xffkey", "v")
			a.PutEmptySlice(auditconv.RequestHeaderKey("x-\xfe")).AppendEmpty().SetStr("h")
		case 79:
			v, _ := a.Get(auditconv.RecordID)
			id79 = v.Str()
		case 80:
			a.PutStr(auditconv.RecordID, id79)
			a.PutStr(auditconv.URLPath, "/reused-id")
			lr.SetTimestamp(lr.Timestamp() + pcommon.Timestamp(time.Hour))
		case 90:
			if bigBody == 0 {
				return
			}
			a.PutStr(auditconv.HTTPRequestBodyContent, strings.Repeat("b", bigBody))
			a.PutInt(auditconv.HTTPRequestBodySize, int64(bigBody))
		}
	})
}

// CheckOutOfRange checks what a store holds after OutOfRange(bigBody) was
// exported to it: every record but the reused id, none with a value
// wrapped, dropped or silently rewritten. maxBody is the largest body the
// store keeps whole.
func CheckOutOfRange(t *testing.T, s store.Store, bigBody, maxBody int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n, err := s.Count(ctx, store.Filter{}); err != nil || n != OutOfRangeStored {
		t.Fatalf("%d records stored (%v), want %d", n, err, OutOfRangeStored)
	}
	get := func(i int) store.Record {
		t.Helper()
		recs, err := s.Query(ctx, store.Filter{PathPrefix: fmt.Sprintf("/api/orders/%d", i), Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Path == fmt.Sprintf("/api/orders/%d", i) {
				return r
			}
		}
		t.Fatalf("record %d not stored", i)
		return store.Record{}
	}
	orig := func(r store.Record, col string) any { return r.Attributes[auditconv.StoreOriginalKey(col)] }
	if r := get(10); r.Attributes["ratio"] != "NaN" || r.RequestBody == "" || r.Attributes[auditconv.StoreError] != nil {
		t.Errorf("NaN attribute: stored %v, body %q", r.Attributes, r.RequestBody)
	}
	if r := get(20); r.DurationMS != 0 || orig(r, "duration_ms") != "+Inf" || r.RequestBody == "" {
		t.Errorf("+Inf duration: stored %v, attributes %v", r.DurationMS, r.Attributes)
	}
	if r := get(30); r.Status != 0 || orig(r, "status") != "4294967496" {
		t.Errorf("status 2^32+200: stored %d, attributes %v", r.Status, r.Attributes)
	}
	if r := get(40); r.Timestamp.Year() != 2554 || r.ObservedTimestamp.Year() != 2554 {
		t.Errorf("largest OTLP timestamp: stored %s / %s, want 2554", r.Timestamp, r.ObservedTimestamp)
	}
	if r := get(50); time.Since(r.Timestamp) > 10*time.Minute || r.Timestamp.After(time.Now().Add(time.Minute)) || orig(r, "ts") != store.Absent {
		t.Errorf("no timestamps: stored %s, attributes %v", r.Timestamp, r.Attributes)
	}
	if r := get(60); r.Attributes["bad\uFFFDkey"] != "v" || len(r.RequestHeaders["x-\uFFFD"]) != 1 || r.RequestBody == "" {
		t.Errorf("keys not UTF-8: attributes %v, headers %v", r.Attributes, r.RequestHeaders)
	}
	if r := get(79); r.Path != "/api/orders/79" {
		t.Errorf("reused id: the first write must win, stored %s", r.Path)
	}
	if bigBody == 0 {
		return
	}
	r := get(90)
	switch {
	case bigBody <= maxBody && (len(r.RequestBody) != bigBody || r.RequestBodyTruncated):
		t.Errorf("30 MB body: %d bytes stored, truncated %v; want it whole", len(r.RequestBody), r.RequestBodyTruncated)
	case bigBody > maxBody && (len(r.RequestBody) > maxBody || len(r.RequestBody) < maxBody/2 || !r.RequestBodyTruncated):
		t.Errorf("30 MB body: %d bytes stored, truncated %v; want it cut and flagged", len(r.RequestBody), r.RequestBodyTruncated)
	}
	if r.RequestBodySize != int64(bigBody) || r.Attributes[auditconv.StoreError] != nil || len(r.RequestHeaders) == 0 {
		t.Errorf("30 MB body: size %d, attributes %v, headers %v", r.RequestBodySize, r.Attributes, r.RequestHeaders)
	}
}
