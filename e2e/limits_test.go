package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/store"
)

// TestValidateRefusesMalformedConnectionStrings runs the collector's
// validate command on config/dual.yaml: a DSN with sslmode=bogus and a
// MongoDB URI with a port that is not a number fail it, naming dsn and uri,
// without showing the password; well-formed ones pass.
func TestValidateRefusesMalformedConnectionStrings(t *testing.T) {
	needCollector(t)
	e := newEnv(t)
	validate := func(dsn, uri string) (string, error) {
		cmd := exec.Command(collectorBin, "validate", "--config", filepath.Join(root, "config", "dual.yaml"))
		cmd.Env = append(cmd.Environ(), e.vars()...)
		cmd.Env = append(cmd.Env, "AUDIT_POSTGRES_DSN="+dsn, "AUDIT_MONGO_URI="+uri)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := validate("postgres://audit:s3cret@db:5432/audit?sslmode=bogus", "mongodb://audit:s3cret@db:notaport/")
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("validate accepted malformed connection strings (%v):\n%s", err, out)
	}
	for _, want := range []string{"dsn: invalid connection string", "sslmode", "uri: invalid connection string", "port"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("validate shows the password:\n%s", out)
	}
	if out, err := validate(e.dsn, e.uri); err != nil {
		t.Errorf("validate refused well-formed connection strings: %v\n%s", err, out)
	}
}

// deepLogs returns one log record with an attribute holding maps nested
// depth levels deep, as OTLP/protobuf.
func deepLogs(depth int) []byte {
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(deepRecord(depth))
	if err != nil {
		panic(err)
	}
	return b
}

func deepRecord(depth int) plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	lr.Body().SetStr("deep attribute")
	m := lr.Attributes().PutEmptyMap("deep")
	for i := 1; i < depth; i++ {
		m = m.PutEmptyMap("k")
	}
	m.PutInt("depth", int64(depth))
	return ld
}

// TestNestingLimit shows the OTLP receiver's limit that the README
// documents: a protobuf request holding maps nested 32 deep is stored in
// both stores (past 16 levels as JSON text), one nested 33 deep is refused
// whole with 400 (protobuf's recursion limit), so producers must flatten or
// stringify deeper values.
func TestNestingLimit(t *testing.T) {
	needCollector(t)
	e := newEnv(t)
	collector := startCollector(t, e, "dual.yaml")
	post := func(depth int) (int, string) {
		resp, err := http.Post("http://"+e.otlp+"/v1/logs", "application/x-protobuf", bytes.NewReader(deepLogs(depth)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := post(33); code != http.StatusBadRequest || !strings.Contains(body, "recursion") {
		t.Errorf("maps 33 deep: %d %q, want 400 (recursion depth)", code, body)
	}
	if code, body := post(32); code != http.StatusOK {
		t.Fatalf("maps 32 deep: %d %q, want 200", code, body)
	}
	checkDeepStored(t, e, collector, 32)
	collector.stop(t)
}

// checkDeepStored checks that both stores hold the one deepRecord(depth):
// 16 levels of maps, then the rest of the value as JSON text (the masking
// processor's limit), down to the depth it was sent with.
func checkDeepStored(t *testing.T, e *env, collector *process, depth int) {
	t.Helper()
	pg, mg := openStores(t, e)
	for name, s := range map[string]store.Store{"PostgreSQL": pg, "MongoDB": mg} {
		waitCount(t, name, s, 1, collector)
		recs, err := s.Query(context.Background(), store.Filter{})
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %v %d", name, err, len(recs))
		}
		levels, v := 0, recs[0].Attributes["deep"]
		for m, ok := v.(map[string]any); ok; m, ok = m["k"].(map[string]any) {
			levels++
			v = m["k"]
		}
		text, _ := v.(string)
		if levels != 16 || !strings.Contains(text, fmt.Sprintf(`"depth":%d`, depth)) {
			t.Errorf("%s: %d map levels then %q; want 16 levels, then the rest as JSON text", name, levels, text)
		}
	}
}

// TestDeepJSONRecordIsStored: OTLP/JSON has no nesting limit at the
// receiver, but the persistent queue stores batches as protobuf, which
// refuses to decode them past its recursion limit; such a record used to be
// accepted with 200 and then lost without a log line. The masking processor
// stores values past 16 levels as JSON text, so the record reaches both
// stores with its deepest value intact.
func TestDeepJSONRecordIsStored(t *testing.T) {
	needCollector(t)
	e := newEnv(t)
	collector := startCollector(t, e, "dual.yaml")
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(deepRecord(60))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+e.otlp+"/v1/logs", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP/JSON export: %s", resp.Status)
	}
	checkDeepStored(t, e, collector, 60)
	collector.stop(t)
}

// TestOutOfRangeValuesThroughTheCollector posts the 300 records of
// testlogs.OutOfRange (a NaN attribute, a +Inf duration, a status beyond
// int32, the largest OTLP timestamps, none, keys that are not UTF-8, a
// reused id) to the built collector with config/dual.yaml: both stores hold
// the same 299 records, none wrapped or dropped, and nothing stays queued.
func TestOutOfRangeValuesThroughTheCollector(t *testing.T) {
	needCollector(t)
	e := newEnv(t)
	collector := startCollector(t, e, "dual.yaml")
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(testlogs.OutOfRange(0))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+e.otlp+"/v1/logs", "application/x-protobuf", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP export: %s", resp.Status)
	}
	pg, mg := openStores(t, e)
	for name, s := range map[string]store.Store{"PostgreSQL": pg, "MongoDB": mg} {
		waitCount(t, name, s, testlogs.OutOfRangeStored, collector)
	}
	collector.stop(t)
	for name, s := range map[string]store.Store{"PostgreSQL": pg, "MongoDB": mg} {
		t.Run(name, func(t *testing.T) { testlogs.CheckOutOfRange(t, s, 0, 0) })
	}
}
