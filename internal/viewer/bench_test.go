package viewer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/viewer"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

// benchRows is the size of the table of BenchmarkListMillion.
const benchRows = 1_000_000

// sqlGenerate fills a table with benchRows records over 30 days, in one
// INSERT … SELECT: a 500 every 20th, a response body that says "refund"
// every 1000th.
const sqlGenerate = `INSERT INTO %[1]s (id, ts, observed_ts, event_name, service_name, method, scheme, host, path, route, query,
	status, duration_ms, user_id, client_address, user_agent, request_headers, request_body, request_body_size,
	response_headers, response_body, response_body_size)
SELECT gen_random_uuid(), $1::timestamptz - (i * interval '2592 milliseconds'), $1::timestamptz - (i * interval '2592 milliseconds'),
	'http.server.audit', (ARRAY['orders','billing','search'])[i %% 3 + 1], (ARRAY['GET','GET','POST','PUT','DELETE'])[i %% 5 + 1],
	'https', 'api.example.com', '/api/v1/orders/' || i, 'GET /api/v1/orders/{id}', 'page=' || (i %% 7),
	CASE WHEN i %% 20 = 0 THEN 500 WHEN i %% 9 = 0 THEN 404 ELSE 200 END, (i %% 300) + 0.5,
	'user-' || (i %% 5000), '10.0.' || (i %% 250) || '.' || (i %% 200), 'client/1.0',
	'{"accept":["application/json"]}', '{"order":' || i || ',"items":[{"sku":"SKU-' || (i %% 977) || '","qty":' || (i %% 4 + 1) || '}]}', 60,
	'{"content-type":["application/json"]}',
	CASE WHEN i %% 1000 = 0 THEN '{"error":"refund rejected by the payment gateway","order":' || i || '}'
	     ELSE '{"ok":true,"order":' || i || ',"total":' || (i %% 10000) / 100.0 || '}' END, 50
FROM generate_series(1, $2::int) AS i`

// BenchmarkListMillion measures the server time of a list page on a table
// of a million records (PostgreSQL) for the default view, a filtered view
// and a body search, each against the same SELECT of the page's records run
// by hand in the same benchmark. The viewer's page also draws the timeline
// (one more GROUP BY query) and renders the HTML. It is a benchmark, not a
// test, so that CI does not build a million rows.
func BenchmarkListMillion(b *testing.B) {
	dsn := testdb.PostgresDSN(b)
	ctx := context.Background()
	table := testdb.Name("million")
	testdb.DropTable(b, dsn, "public", table)
	// The search index is built after the load, as an operator adding it
	// to a full table would: Migrate without it, load, Migrate with it.
	cfg := pgstore.Config{DSN: dsn, Table: table, Partition: pgstore.PartitionNone, NoSearchIndex: true}
	rw, err := pgstore.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer rw.Close()
	if err := rw.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	now := time.Now().UTC()
	t0 := time.Now()
	if _, err := conn.Exec(ctx, fmt.Sprintf(sqlGenerate, rw.Table()), now, benchRows); err != nil {
		b.Fatal(err)
	}
	cfg.NoSearchIndex, cfg.Timeout = false, 10*time.Minute // building the index takes a while
	idx, err := pgstore.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := idx.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	idx.Close()
	if _, err := conn.Exec(ctx, "ANALYZE "+rw.Table()); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d records loaded and indexed in %s", benchRows, time.Since(t0).Round(time.Second))

	cfg.ReadOnly = true
	ro, err := pgstore.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer ro.Close()
	v, err := viewer.New(ctx, viewer.Config{Store: ro, Auth: viewer.AuthConfig{
		ProxyHeader: "X-User", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}})
	if err != nil {
		b.Fatal(err)
	}
	h := v.Handler()
	// The hand-written search matches the indexed expression
	// (docs/viewer.md), as a DBA's query would.
	const searchExpr = `(coalesce(path, '') || E'\x01' || coalesce(query, '') || E'\x01' || coalesce(user_id, '') || E'\x01' || left(coalesce(request_body, ''), 65536) || E'\x01' || left(coalesce(response_body, ''), 65536))`
	for _, c := range []struct {
		name, query, where string
		args               []any
	}{
		{"default", "", "", nil},
		{"filtered", "status=5xx&method=GET&service=billing", " WHERE status >= $1 AND status <= $2 AND method = ANY($3) AND service_name = $4",
			[]any{500, 599, []string{"GET"}, "billing"}},
		{"search", "q=refund", " WHERE " + searchExpr + " ILIKE $1", []any{"%refund%"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var tView, tSQL time.Duration
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", "/?"+c.query, nil)
				req.RemoteAddr = "192.0.2.1:1234"
				req.Header.Set("X-User", "bench")
				w := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(w, req)
				tView += time.Since(start)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.name, w.Code, w.Body.String())
				}

				start = time.Now()
				rows, err := conn.Query(ctx, "SELECT * FROM "+rw.Table()+c.where+" ORDER BY ts DESC, id DESC LIMIT 50", c.args...)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					if _, err := rows.Values(); err != nil {
						b.Fatal(err)
					}
					n++
				}
				rows.Close()
				tSQL += time.Since(start)
				if n != 50 {
					b.Fatalf("%s: the hand SELECT found %d rows", c.name, n)
				}
			}
			b.ReportMetric(float64(tView.Milliseconds())/float64(b.N), "ms/page")
			b.ReportMetric(float64(tSQL.Microseconds())/1000/float64(b.N), "ms/select")
			b.ReportMetric(tView.Seconds()/tSQL.Seconds(), "page/select")
		})
	}
}
