package auditexport

import "testing"

// BenchmarkRebuild: what the sender spends on each record it reads back
// from disk (decode the spooled payload, rebuild the SDK record), against
// what a record costs it from memory and the BatchProcessor per record:
// one Clone.
func BenchmarkRebuild(b *testing.B) {
	rec := auditRecord()
	b.Run("clone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = rec.Clone()
		}
	})
	b.Run("decode-rebuild", func(b *testing.B) {
		payload := appendRecord(nil, rec)
		rb := newRebuilder()
		defer rb.shutdown()
		b.ReportAllocs()
		for b.Loop() {
			d, err := decodeRecord(payload)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rb.rebuild(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
