package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/otelaudit/otelaudit/internal/testutil/testproxy"
	"github.com/otelaudit/otelaudit/processor/samplingprocessor"
	"github.com/otelaudit/otelaudit/store"
)

// secrets sent by the mix; none may reach either store. The service runs
// with masking at the source off, so the collector's masking processor is
// what keeps them out.
var secrets = []string{
	"hunter2-e2e", "hdr-secret-e2e-1", "qs-secret-e2e", "json-secret-e2e", "cookie-secret-e2e",
	"4111 1111 1111 1111", "big-secret-e2e",
}

// sent is one request of the mix and the answer it got.
type sent struct {
	method, path string
	status       int
	id           string
}

type request struct {
	method, path, ct, body string
	headers                map[string]string
}

func mix() []request {
	big := `{"password":"big-secret-e2e","items":[` + strings.Repeat(`{"sku":"SKU-1","qty":1},`, 4000) + `{}]}`
	reqs := []request{
		{"POST", "/login", "application/x-www-form-urlencoded", "username=alice&password=hunter2-e2e", nil},
		{"POST", "/login", "application/x-www-form-urlencoded", "username=mallory", nil},
		{"GET", "/api/orders/42?api_key=qs-secret-e2e&expand=items", "", "", map[string]string{"Authorization": "Bearer hdr-secret-e2e-1", "X-User": "alice"}},
		{"GET", "/api/orders/0", "", "", map[string]string{"X-User": "alice"}},
		{"POST", "/api/orders", "application/json", `{"item":"pen","amount":3,"card":"4111 1111 1111 1111","password":"json-secret-e2e"}`,
			map[string]string{"X-User": "bob", "Cookie": "session=cookie-secret-e2e"}},
		{"POST", "/api/orders", "application/json", `{"item":"refund","amount":-1}`, map[string]string{"X-User": "bob"}},
		{"POST", "/api/orders", "application/json", big, map[string]string{"X-User": "carol"}},
		{"POST", "/api/upload", "application/octet-stream", strings.Repeat("\x00\x01binary", 2000), nil},
		{"GET", "/api/report", "", "", nil},
		{"GET", "/api/logo", "", "", nil},
		{"HEAD", "/api/orders/1", "", "", nil},
	}
	for i := 0; i < 30; i++ {
		reqs = append(reqs, request{"GET", fmt.Sprintf("/api/orders/%d", 100+i), "", "", map[string]string{"X-User": "dave"}})
	}
	return reqs
}

func send(t *testing.T, base string, reqs []request) []sent {
	t.Helper()
	var out []sent
	for _, r := range reqs {
		hr, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if r.ct != "" {
			hr.Header.Set("Content-Type", r.ct)
		}
		for k, v := range r.headers {
			hr.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("X-Audit-Record-Id")
		if id == "" {
			t.Fatalf("%s %s: no record id", r.method, r.path)
		}
		path, _, _ := strings.Cut(r.path, "?")
		out = append(out, sent{r.method, path, resp.StatusCode, id})
	}
	return out
}

// expectedKept applies the shipped sampling configuration.
func expectedKept(t *testing.T, all []sent) map[string]sent {
	rates, cfg := dualRates(t)
	kept := map[string]sent{}
	for _, s := range all {
		if (cfg.KeepErrors && s.status >= 500) || samplingprocessor.KeepRecordID(s.id, rates.Rate(s.method, s.status)) {
			kept[s.id] = s
		}
	}
	return kept
}

func TestDualWriteMaskedAndSampled(t *testing.T) {
	needCollector(t)
	e := newEnv(t)
	collector := startCollector(t, e, "dual.yaml")
	service, base := startService(t, e)
	all := send(t, base, mix())
	service.stop(t) // flushes its records
	kept := expectedKept(t, all)
	if len(kept) == len(all) || len(kept) < len(all)/3 {
		t.Fatalf("the mix keeps %d of %d records: the sampling rates do not show", len(kept), len(all))
	}
	pg, mg := openStores(t, e)
	waitCount(t, "PostgreSQL", pg, int64(len(kept)), collector)
	waitCount(t, "MongoDB", mg, int64(len(kept)), collector)
	collector.stop(t)

	for name, s := range map[string]store.Store{"PostgreSQL": pg, "MongoDB": mg} {
		if n := count(t, s); n != int64(len(kept)) {
			t.Errorf("%s holds %d records, want exactly %d", name, n, len(kept))
		}
		for _, x := range all {
			r, err := s.Get(context.Background(), x.id)
			_, want := kept[x.id]
			switch {
			case want && err != nil:
				t.Errorf("%s: kept record %s %s (%d) missing: %v", name, x.method, x.path, x.status, err)
			case !want && err == nil:
				t.Errorf("%s: record %s %s (%d) should have been sampled away", name, x.method, x.path, x.status)
			case want && (r.Method != x.method || r.Path != x.path || r.Status != x.status || r.ServiceName != "e2e-service"):
				t.Errorf("%s: record %s stored as %s %s %d %q", name, x.id, r.Method, r.Path, r.Status, r.ServiceName)
			}
		}
		checkIntact(t, name, s, all)
	}
	checkNoSecretInPostgres(t, e)
	checkNoSecretInMongo(t, e)
}

// checkIntact looks at records whose content the mix knows.
func checkIntact(t *testing.T, name string, s store.Store, all []sent) {
	find := func(method, path string, status int) (store.Record, bool) {
		for _, x := range all {
			if x.method == method && x.path == path && x.status == status {
				r, err := s.Get(context.Background(), x.id)
				return r, err == nil
			}
		}
		return store.Record{}, false
	}
	if r, ok := find("POST", "/api/orders", 201); ok {
		if !strings.Contains(r.RequestBody, `"item":"pen"`) || r.UserID != "bob" || r.Route != "POST /api/orders" {
			t.Errorf("%s: order record lost non-secret content: body %q user %q route %q", name, r.RequestBody, r.UserID, r.Route)
		}
	} else {
		t.Errorf("%s: POST /api/orders 201 missing", name)
	}
	if r, ok := find("POST", "/api/orders", 503); ok {
		if r.ErrorType != "503" || r.SeverityText != "ERROR" {
			t.Errorf("%s: 503 record: error_type %q severity %q", name, r.ErrorType, r.SeverityText)
		}
	}
	if r, ok := find("GET", "/api/logo", 200); ok {
		if !bytes.Contains(r.ResponseBodyBinary, []byte{0x00, 0xff, 0xfe}) {
			t.Errorf("%s: binary response body not kept as bytes: %q / %q", name, r.ResponseBody, r.ResponseBodyBinary)
		}
	}
	if r, ok := find("GET", "/api/report", 200); ok {
		if !r.ResponseBodyTruncated || r.ResponseBodySize <= int64(len(r.ResponseBody)) {
			t.Errorf("%s: oversized response: truncated=%v size=%d stored=%d", name, r.ResponseBodyTruncated, r.ResponseBodySize, len(r.ResponseBody))
		}
	}
}

func containsSecret(haystack string) (string, bool) {
	for _, s := range secrets {
		if strings.Contains(haystack, s) || strings.Contains(haystack, hex.EncodeToString([]byte(s))) {
			return s, true
		}
	}
	return "", false
}

func checkNoSecretInPostgres(t *testing.T, e *env) {
	conn, err := pgx.Connect(context.Background(), e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), "SELECT t::text FROM "+e.table+" t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var row string
		rows.Scan(&row)
		n++
		if s, ok := containsSecret(row); ok {
			t.Errorf("PostgreSQL row holds secret %q: %.300s", s, row)
		}
	}
	if n == 0 {
		t.Error("no PostgreSQL rows searched")
	}
}

func checkNoSecretInMongo(t *testing.T, e *env) {
	client, err := mongo.Connect(options.Client().ApplyURI(e.uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	cur, err := client.Database(e.database).Collection("request_logs").Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(context.Background())
	n := 0
	for cur.Next(context.Background()) {
		n++
		raw := cur.Current
		if s, ok := containsSecret(raw.String() + string(raw)); ok {
			t.Errorf("MongoDB document holds secret %q", s)
		}
	}
	if n == 0 {
		t.Error("no MongoDB documents searched")
	}
}

// writes is a stream of POST requests, all kept by the sampling rates.
func writes(from, n int) []request {
	var out []request
	for i := from; i < from+n; i++ {
		out = append(out, request{"POST", "/api/orders", "application/json", fmt.Sprintf(`{"item":"n%d","amount":%d}`, i, i), nil})
	}
	return out
}

// TestCollectorKilledMidStream kills the collector with SIGKILL in the
// middle of a stream and starts it again on the same queue directory: the
// persistent queues and the service's retries deliver everything, once.
func TestCollectorKilledMidStream(t *testing.T) {
	needCollector(t)
	e := newEnv(t)
	collector := startCollector(t, e, "dual.yaml")
	service, base := startService(t, e)
	pg, mg := openStores(t, e)

	first := send(t, base, writes(0, 150))
	waitCount(t, "PostgreSQL", pg, 1, collector) // the stream is flowing
	collector.kill()
	second := send(t, base, writes(150, 100)) // the service buffers and retries
	collector = startCollector(t, e, "dual.yaml")
	third := send(t, base, writes(250, 50))
	service.stop(t)
	total := int64(len(first) + len(second) + len(third))
	defer func() {
		if t.Failed() {
			missing(t, pg, append(append(first, second...), third...))
		}
	}()
	waitCount(t, "PostgreSQL", pg, total, collector)
	waitCount(t, "MongoDB", mg, total, collector)
	collector.stop(t)
	for name, s := range map[string]store.Store{"PostgreSQL": pg, "MongoDB": mg} {
		if n := count(t, s); n != total {
			t.Errorf("%s holds %d records, want exactly %d", name, n, total)
		}
	}
}

// missing reports which requests of a stream have no record.
func missing(t *testing.T, s store.Store, all []sent) {
	var gone []int
	for i, x := range all {
		if _, err := s.Get(context.Background(), x.id); err != nil {
			gone = append(gone, i)
		}
	}
	t.Logf("requests without a record: %v", gone)
}

// TestPostgresOutage cuts PostgreSQL off (through a proxy in this test's
// DSN) during the stream: its records arrive after it returns, none lost,
// none duplicated, and MongoDB is not held up meanwhile.
func TestPostgresOutage(t *testing.T) {
	needCollector(t)
	e := newEnv(t)
	u, _ := url.Parse(e.dsn)
	proxy := testproxy.New(t, u.Host)
	u.Host = proxy.Addr
	realDSN := e.dsn
	e.dsn = u.String()
	collector := startCollector(t, e, "dual.yaml")
	e.dsn = realDSN
	service, base := startService(t, e)
	pg, mg := openStores(t, e)

	first := send(t, base, writes(0, 50))
	waitCount(t, "PostgreSQL", pg, int64(len(first)), collector)
	proxy.Down()
	second := send(t, base, writes(50, 100))
	waitCount(t, "MongoDB", mg, int64(len(first)+len(second)), collector)
	if n := count(t, pg); n != int64(len(first)) {
		t.Fatalf("PostgreSQL holds %d records while cut off, want %d", n, len(first))
	}
	proxy.Up()
	third := send(t, base, writes(150, 50))
	service.stop(t)
	total := int64(len(first) + len(second) + len(third))
	waitCount(t, "PostgreSQL", pg, total, collector)
	waitCount(t, "MongoDB", mg, total, collector)
	collector.stop(t)
	for name, s := range map[string]store.Store{"PostgreSQL": pg, "MongoDB": mg} {
		if n := count(t, s); n != total {
			t.Errorf("%s holds %d records, want exactly %d", name, n, total)
		}
	}
}
