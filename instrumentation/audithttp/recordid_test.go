package audithttp

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewRecordID(t *testing.T) {
	valid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	start := time.Date(2026, 11, 27, 10, 30, 0, 123456789, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 100_000 {
		at := start.Add(time.Duration(i) * 300 * time.Nanosecond)
		id := newRecordID(at)
		if !valid.MatchString(id) {
			t.Fatalf("%q is not a UUIDv7", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		// The time fields of ids started >= 250 ns apart never go backwards
		// (the sub-millisecond field has a 244 ns resolution).
		if head := id[:18]; head < prev {
			t.Fatalf("id %q sorts before the previous one (%q)", id, prev)
		}
		prev = id[:18]
		// A standard parser agrees on version, variant and time.
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("uuid.Parse(%q) = %v, %v", id, u, err)
		}
		if sec, nsec := u.Time().UnixTime(); time.Unix(sec, nsec).UnixMilli() != at.UnixMilli() {
			t.Fatalf("time of %q = %v, want %v", id, time.Unix(sec, nsec), at)
		}
	}
	if a, b := newRecordID(start), newRecordID(start); a == b || strings.EqualFold(a[19:], b[19:]) {
		t.Fatalf("same start, same random part: %q %q", a, b)
	}
}
