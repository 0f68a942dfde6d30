package mask

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/internal/testutil/benchdata"
)

var benchDoc = benchdata.JSON

// BenchmarkJSON masks a 2 KB document with secrets; the baseline is one
// validating pass of encoding/json over the same bytes (it masks nothing).
func BenchmarkJSON(b *testing.B) {
	b.Run("encoding-json-valid", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		for b.Loop() {
			if !json.Valid(benchDoc) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("mask", func(b *testing.B) {
		m := Default()
		b.SetBytes(int64(len(benchDoc)))
		b.ReportAllocs()
		for b.Loop() {
			m.JSON(benchDoc)
		}
	})
}

// BenchmarkSensitiveKey checks five header names, against the same names
// lower-cased by strings.ToLower alone as the baseline.
func BenchmarkSensitiveKey(b *testing.B) {
	keys := []string{"Content-Type", "X-Api-Key", "user_name", "Authorization", "price"}
	b.Run("strings-tolower", func(b *testing.B) {
		for b.Loop() {
			for _, k := range keys {
				_ = strings.ToLower(k)
			}
		}
	})
	b.Run("mask", func(b *testing.B) { benchSensitiveKey(b, keys) })
}

func benchSensitiveKey(b *testing.B, keys []string) {
	m := Default()
	for b.Loop() {
		for _, k := range keys {
			m.SensitiveKey(k)
		}
	}
}

// BenchmarkQuery masks a query string; the baseline is url.ParseQuery of
// the same string (parsing alone, nothing masked).
func BenchmarkQuery(b *testing.B) {
	const q = "page=2&sort=desc&api_key=abc&filter=status%3Dopen"
	b.Run("url-parsequery", func(b *testing.B) {
		for b.Loop() {
			url.ParseQuery(q)
		}
	})
	b.Run("mask", func(b *testing.B) {
		m := Default()
		for b.Loop() {
			m.Query(q)
		}
	})
}
