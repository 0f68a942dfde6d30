package integrity_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// records4K returns n audit records of about 4 KB each.
func records4K(n int, start time.Time) []store.Record {
	body := `{"items":[` + strings.Repeat(`{"sku":"SKU-00001","name":"Item","qty":1,"price":9.99},`, 28) + `{}]}`
	out := make([]store.Record, n)
	for i := range out {
		r := storetest.NewRecord(start.Add(time.Duration(i)*time.Microsecond), i)
		r.RequestBody, r.ResponseBody = body, body
		out[i] = r
	}
	return out
}

func benchKeys(b *testing.B) keys {
	skey, vkey, err := note.GenerateKey(rand.Reader, "bench")
	if err != nil {
		b.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return keys{s, v}
}

func benchBackends(b *testing.B, f func(b *testing.B, open func() backend)) {
	b.Run("postgres", func(b *testing.B) { f(b, func() backend { return openPostgres(b, "") }) })
	b.Run("mongo", func(b *testing.B) { f(b, func() backend { return openMongo(b) }) })
}

// BenchmarkWrite writes batches of 1000 records of 4 KB with integrity off
// (Store.Write, the baseline) and on (Sealer.Write: canonical encoding,
// hashing, signing, the checkpoint row), alternating in each iteration so
// that both see the same server load, and reports ratio = on/off
// throughput.
func BenchmarkWrite(b *testing.B) {
	const batch = 1000
	benchBackends(b, func(b *testing.B, open func() backend) {
		plain, sealed := open(), open()
		z, err := integrity.NewSealer("bench", benchKeys(b).signer)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now().UTC().Add(-time.Hour)
		var off, on time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			r1 := records4K(batch, start.Add(time.Duration(i)*time.Second))
			r2 := records4K(batch, start.Add(time.Duration(i)*time.Second))
			b.StartTimer()
			t0 := time.Now()
			if _, err := plain.s.Write(ctx(b), r1); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := z.Write(ctx(b), sealed.s, r2); err != nil {
				b.Fatal(err)
			}
			off, on = off+t1.Sub(t0), on+time.Since(t1)
		}
		n := float64(b.N * batch)
		b.ReportMetric(n/off.Seconds(), "off-rows/s")
		b.ReportMetric(n/on.Seconds(), "on-rows/s")
		b.ReportMetric(off.Seconds()/on.Seconds(), "ratio")
	})
}

// BenchmarkVerify compares integrity.Verify over a sealed store of 10 000
// records of 4 KB (PostgreSQL; 3 000 on the slower MongoDB-wire server) with reading the same records through Store.Query pages
// (the plain SELECT or find a verifier cannot do without), alternating in
// each iteration, and reports ratio = verify/read records per second.
func BenchmarkVerify(b *testing.B) {
	const batch = 1000
	benchBackends(b, func(b *testing.B, open func() backend) {
		be := open()
		n := 10000
		if strings.Contains(b.Name(), "mongo") {
			n = 3000
		}
		k := benchKeys(b)
		z, err := integrity.NewSealer("bench", k.signer)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now().UTC().Add(-time.Hour)
		for i := 0; i < n/batch; i++ {
			if _, err := z.Write(ctx(b), be.s, records4K(batch, start.Add(time.Duration(i)*time.Second))); err != nil {
				b.Fatal(err)
			}
		}
		var read, ver time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			got := 0
			f := store.Filter{Limit: 1000}
			for {
				page, err := be.s.Query(ctx(b), f)
				if err != nil {
					b.Fatal(err)
				}
				got += len(page)
				if len(page) < f.Limit {
					break
				}
				f.After = store.CursorAfter(page[len(page)-1])
			}
			t1 := time.Now()
			rep, err := integrity.Verify(ctx(b), be.s, k.verifier, integrity.Options{})
			if err != nil || !rep.Intact || got != n || rep.Records != int64(n) {
				b.Fatalf("read %d, verify %+v %v", got, rep.Problems, err)
			}
			read, ver = read+t1.Sub(t0), ver+time.Since(t1)
		}
		b.ReportMetric(float64(b.N*n)/read.Seconds(), "select-rows/s")
		b.ReportMetric(float64(b.N*n)/ver.Seconds(), "verify-rows/s")
		b.ReportMetric(read.Seconds()/ver.Seconds(), "ratio")
	})
}
