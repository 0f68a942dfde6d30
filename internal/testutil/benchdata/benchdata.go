// Package benchdata holds the inputs benchmarks of several packages share,
// so that their figures are about the same bytes.
package benchdata

import (
	"fmt"
	"strings"
)

// JSON is a realistic ~2 KB JSON API document with secrets in it: the
// request and response body of the wrapper benchmarks and the document of
// the masking benchmark.
var JSON = func() []byte {
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
