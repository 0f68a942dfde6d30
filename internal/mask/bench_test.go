package mask

import (
	"fmt"
	"strings"
	"testing"
)

var benchDoc = func() []byte {
	var b strings.Builder
	b.WriteString(`{"user":{"id":"u-1029","email":"alice@example.com","password":"correct-horse","api_key":"ak_live_123"},"items":[`)
	for i := 0; b.Len() < 1900; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%05d","name":"Item number %d","qty":%d,"price":%d.99,"tags":["a","b"]}`, i, i, i%7+1, i*3)
	}
	b.WriteString(`],"token":"tok_abcdef","note":"ok"}`)
	return []byte(b.String())
}()

func BenchmarkJSON(b *testing.B) {
	m := Default()
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		m.JSON(benchDoc)
	}
}

func BenchmarkSensitiveKey(b *testing.B) {
	m := Default()
	keys := []string{"Content-Type", "X-Api-Key", "user_name", "Authorization", "price"}
	for b.Loop() {
		for _, k := range keys {
			m.SensitiveKey(k)
		}
	}
}

func BenchmarkQuery(b *testing.B) {
	m := Default()
	for b.Loop() {
		m.Query("page=2&sort=desc&api_key=abc&filter=status%3Dopen")
	}
}
