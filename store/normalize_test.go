package store

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestNormalizeCopiesNothingClean: clean records come back as they are,
// the very slice; a record that needs a change is copied, and the caller's
// record and maps are left untouched.
func TestNormalizeCopiesNothingClean(t *testing.T) {
	now := time.Now().UTC()
	clean := []Record{{ID: "a", Timestamp: now, Status: 200, DurationMS: 1.5,
		Attributes: map[string]any{"k": "v", "n": []any{1.0, "x"}}, RequestHeaders: map[string][]string{"accept": {"*/*"}}}}
	if out := Normalize(clean, now); &out[0] != &clean[0] {
		t.Error("a clean batch was copied")
	}
	attrs := map[string]any{"nan": math.NaN(), "k\xff": "v"}
	in := []Record{clean[0], {ID: "b", Timestamp: now, Status: 1 << 40, Attributes: attrs}}
	out := Normalize(in, now)
	if &out[0] == &in[0] || in[1].Status != 1<<40 || len(attrs) != 2 || !math.IsNaN(attrs["nan"].(float64)) {
		t.Errorf("the caller's records or maps changed: %+v %v", in[1], attrs)
	}
	if out[1].Status != 0 || out[1].Attributes["audit.store.original.status"] != "1099511627776" ||
		out[1].Attributes["nan"] != "NaN" || out[1].Attributes["k\uFFFD"] != "v" {
		t.Errorf("normalized: %+v", out[1])
	}
}

func TestDegradedHoldsNothingNormalizeChanges(t *testing.T) {
	r := Degraded(Record{ID: "a", Timestamp: time.Now(), DurationMS: math.Inf(1), RequestBody: "b",
		Attributes: map[string]any{"x": math.NaN()}}, "refused: bad \xff byte")
	if r.DurationMS != 0 || r.RequestBody != "" || !r.RequestBodyTruncated || len(r.Attributes) != 1 || !clean(&r) {
		t.Errorf("degraded: %+v", r)
	}
}

// TestNormalizeBodies: each body ends up held once, in the field its bytes
// belong to, unchanged.
func TestNormalizeBodies(t *testing.T) {
	now := time.Now().UTC()
	in := []Record{
		{ID: "text", Timestamp: now, RequestBody: "héllo", ResponseBody: "ok"},
		{ID: "invalid", Timestamp: now, RequestBody: "a\xffb", ResponseBody: "\x00\xfe"},
		{ID: "both", Timestamp: now, RequestBody: "text", RequestBodyBinary: []byte{1, 2}},
	}
	out := Normalize(in, now)
	if &out[0] == &in[0] || in[1].RequestBody != "a\xffb" {
		t.Error("the caller's records changed, or the batch was not copied")
	}
	check := func(r Record, reqText, reqBin, respText, respBin string) {
		t.Helper()
		if r.RequestBody != reqText || string(r.RequestBodyBinary) != reqBin || r.ResponseBody != respText || string(r.ResponseBodyBinary) != respBin {
			t.Errorf("%s: request %q %q, response %q %q", r.ID, r.RequestBody, r.RequestBodyBinary, r.ResponseBody, r.ResponseBodyBinary)
		}
		if !clean(&r) {
			t.Errorf("%s: not clean after Normalize", r.ID)
		}
	}
	check(out[0], "héllo", "", "ok", "")
	check(out[1], "", "a\xffb", "", "\x00\xfe")
	check(out[2], "", "\x01\x02", "", "")
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ conn, msg string }{
		{"postgres://audit:s3cret@db:5432/x?sslmode=bogus", "cannot parse postgres://audit:s3cret@db: bad"},
		{"postgres://audit:s3%2Fcret@db/x", "password s3/cret and s3%2Fcret"},
		{"host=db password='s3cret' port=x", "failed: password='s3cret'"},
		{"host=db password=s3cret port=x", "failed: s3cret"},
		{"mongodb://u:s3cret@h:notaport/?sslpassword=k3y", "u:s3cret@h k3y"},
		{"postgres://u:p@ss@h/db", "u:p@ss@h"},
	} {
		got := Redact(c.msg, c.conn)
		if strings.Contains(got, "s3") || strings.Contains(got, "k3y") || strings.Contains(got, "p@ss") || !strings.Contains(got, "xxxxx") {
			t.Errorf("Redact(%q, %q) = %q", c.msg, c.conn, got)
		}
	}
}

// TestNormalizeTimestamps: a record without a timestamp takes its observed
// timestamp; one with neither takes now, its original kept as "absent".
func TestNormalizeTimestamps(t *testing.T) {
	now, obs := time.Now().UTC(), time.Unix(100, 0).UTC()
	out := Normalize([]Record{{ID: "obs", ObservedTimestamp: obs}, {ID: "none"}}, now)
	if !out[0].Timestamp.Equal(obs) || out[0].Attributes != nil {
		t.Errorf("observed only: %+v", out[0])
	}
	if !out[1].Timestamp.Equal(now) || out[1].Attributes["audit.store.original.ts"] != Absent {
		t.Errorf("no timestamp: %+v", out[1])
	}
}
