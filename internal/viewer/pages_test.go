package viewer_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/viewer"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// seed writes 30 records a minute apart, every fifth a 500 whose response
// body says "refund".
func seed(t *testing.T, s store.Store) []store.Record {
	t.Helper()
	base := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	var recs []store.Record
	for i := 0; i < 30; i++ {
		r := storetest.NewRecord(base.Add(time.Duration(i)*time.Minute), i)
		r.Status = 200
		if i%5 == 0 {
			r.Status = 500
			r.ResponseBody = fmt.Sprintf(`{"error":"refund %d failed"}`, i)
		}
		recs = append(recs, r)
	}
	write(t, s, recs...)
	return recs
}

var recordLinks = regexp.MustCompile(`<td><a href="/records/([0-9a-f-]{36})">`)

func listed(page string) []string {
	var ids []string
	for _, m := range recordLinks.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestListFiltersAndPages(t *testing.T) {
	rw, ro := stores(t)
	recs := seed(t, rw)
	srv, _ := serve(t, ro, func(c *viewer.Config) { c.PageSize = 4 })
	c := loggedIn(t, srv.URL)

	resp, page := get(t, c, srv.URL+"/?status=5xx&q=REFUND")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list = %s:\n%s", resp.Status, page)
	}
	want := []string{recs[25].ID, recs[20].ID, recs[15].ID, recs[10].ID}
	if got := listed(page); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("first page %v, want %v", got, want)
	}
	// The filters stay in the form, the links and the exports.
	mustContain(t, page, `name="status" value="5xx"`, `name="q" value="REFUND"`, `href="/export.csv?q=REFUND&amp;status=5xx"`)
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(page)
	if next == nil {
		t.Fatal("no next page link")
	}
	_, page = get(t, c, srv.URL+strings.ReplaceAll(next[1], "&amp;", "&"))
	if got := listed(page); strings.Join(got, ",") != recs[5].ID+","+recs[0].ID {
		t.Errorf("second page %v, want the two oldest 500s", got)
	}
	if strings.Contains(page, `rel="next"`) {
		t.Error("a next link on the last page")
	}

	// The timeline: a bar per slot, each a link that zooms in.
	_, page = get(t, c, srv.URL+"/?range=24h")
	if n := strings.Count(page, `<rect class="slot"`); n != 24 {
		t.Errorf("%d timeline slots, want 24", n)
	}
	mustContain(t, page, `<rect class="c5xx"`, `<rect class="c2xx"`, `href="/?since=`)

	for _, q := range []string{"status=7xx", "since=yesterday", "range=2y", "method=G%20T", "after=zz"} {
		if resp, _ := get(t, c, srv.URL+"/?"+q); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s = %s, want 400", q, resp.Status)
		}
	}

	// Every filter parameter is read.
	for q, n := range map[string]int{
		"method=POST":                       8,
		"user=user-1":                       10,
		"service=billing&status=200":        12,
		"trace_id=" + recs[7].TraceID:       1,
		"path=/api/v1/items/2":              11,
		"route=GET+/api/v1/items/{id}":      30,
		"client=203.0.113.7&status=500-599": 6,
		"since=" + url.QueryEscape(recs[28].Timestamp.Format(time.RFC3339Nano)): 2,
	} {
		_, page := get(t, c, srv.URL+"/?"+q+"&limit=100")
		// Page size 4: count through the export instead, which has the same filter.
		resp, body := get(t, c, srv.URL+"/export.csv?"+q)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("export ?%s = %s", q, resp.Status)
			continue
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows)-1 != n {
			t.Errorf("?%s: %d rows, %v; want %d", q, len(rows)-1, err, n)
		}
		if len(rows) > 1 && !strings.Contains(page, rows[1][0]) {
			t.Errorf("?%s: the list lacks the newest record %s", q, rows[1][0])
		}
	}
}

func TestRecordPage(t *testing.T) {
	rw, ro := stores(t)
	ts := time.Now().UTC().Add(-time.Minute)
	r := storetest.NewRecord(ts, 1)
	r.RequestHeaders = map[string][]string{"authorization": {"****"}, "accept": {"application/json"}}
	r.RequestBody = `{"card":"****","amount":12}`
	r.ResponseBody, r.ResponseBodyBinary = "", []byte{0x89, 'P', 'N', 'G', 0, 1, 2}
	r.ResponseBodySize = 7
	write(t, rw, r)
	srv, _ := serve(t, ro, nil)
	c := loggedIn(t, srv.URL)

	resp, page := get(t, c, srv.URL+"/records/"+r.ID)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("record page = %s", resp.Status)
	}
	mustContain(t, page,
		r.ID, "page=1&amp;token=<mark class=\"masked\" title=\"masked\">****</mark>", // masked values marked
		"{\n  &#34;card&#34;: &#34;<mark class=\"masked\" title=\"masked\">****</mark>&#34;,\n  &#34;amount&#34;: 12\n}", // JSON pretty-printed
		"Binary, 7 bytes", "89 50 4e 47 00 01 02", // hex preview
		`<th>authorization</th><td><mark class="masked" title="masked">****</mark></td>`,
		"session_id", "hmac:abc",
		`href="/records/`+r.ID+`" rel="bookmark"`,
		`href="/records/`+r.ID+`/raw"`,
		`href="/?trace_id=`+r.TraceID+`"`,
		`href="/?since=`+url.QueryEscape(ts.Add(-15*time.Minute).Format(time.RFC3339)),
		"curl -X &#39;POST&#39; &#39;https://api.example.com/api/v1/items/1?page=1&amp;token=****&#39;",
		"-H &#39;authorization: ****&#39;", "--data-binary &#39;{&#34;card&#34;:&#34;****&#34;,&#34;amount&#34;:12}&#39;",
	)
	resp, raw := get(t, c, srv.URL+"/records/"+r.ID+"/raw")
	var got store.Record
	if err := json.Unmarshal([]byte(raw), &got); err != nil || got.ID != r.ID || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("raw view: %v, id %q, %s", err, got.ID, resp.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/records/not-an-id", "/records/" + storetest.NewID(ts)} {
		if resp, _ := get(t, c, srv.URL+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %s, want 404", p, resp.Status)
		}
	}
}

// A record full of markup renders as text, wherever it shows.
func TestEscaping(t *testing.T) {
	rw, ro := stores(t)
	const xss1, xss2 = `<script>alert(1)</script>`, `"><img src=x onerror=alert(2)>`
	r := storetest.NewRecord(time.Now().UTC().Add(-time.Minute), 1)
	r.Path = "/" + xss1 + xss2
	r.UserAgent = xss1 + xss2
	r.UserID = xss2
	r.Query = "a=" + xss2
	r.RequestHeaders = map[string][]string{xss2: {xss1}}
	r.ResponseHeaders = map[string][]string{"x-evil": {xss2}}
	r.RequestBody = `{"k":"` + strings.ReplaceAll(xss2, `"`, `\"`) + `"}`
	r.ResponseBody = xss1 + xss2
	r.Attributes = map[string]any{xss1: xss2}
	write(t, rw, r)
	srv, _ := serve(t, ro, nil)
	c := loggedIn(t, srv.URL)
	for _, p := range []string{"/", "/?q=" + url.QueryEscape(xss1), "/records/" + r.ID, "/?path=" + url.QueryEscape("/"+xss1)} {
		_, page := get(t, c, srv.URL+p)
		if !strings.Contains(page, r.ID) {
			t.Errorf("%s does not show the record", p)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", `"><img`} {
			if strings.Contains(page, bad) {
				t.Errorf("%s holds %q unescaped", p, bad)
			}
		}
		mustContain(t, page, "&lt;img src=x onerror=alert(2)&gt;")
		// No inline script at all: the only script is the embedded file.
		if n := strings.Count(page, "<script"); n != 1 || !strings.Contains(page, `<script src="/static/viewer.js" defer></script>`) {
			t.Errorf("%s: %d script elements", p, n)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	_, ro := stores(t)
	srv, _ := serve(t, ro, nil)
	c := client(t)
	for _, p := range []string{"/login", "/static/viewer.css", "/records/x"} {
		resp, _ := get(t, c, srv.URL+p)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code: %q", p, csp)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", p, resp.Header)
		}
	}
}

func TestExport(t *testing.T) {
	rw, ro := stores(t)
	recs := seed(t, rw)
	recs[5].Path = "=HYPERLINK(\"http://evil\")"
	srv, _ := serve(t, ro, func(c *viewer.Config) { c.ExportMaxRows = 25 })
	c := loggedIn(t, srv.URL)

	resp, body := get(t, c, srv.URL+"/export.csv?status=5xx")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv export: %s %v", resp.Status, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 7 || rows[0][0] != "id" || rows[1][0] != recs[25].ID || rows[1][3] != "500" {
		t.Errorf("csv: %v, %d rows, %v", err, len(rows), rows[:min(2, len(rows))])
	}
	if resp.Trailer.Get("X-Export-Truncated") != "false" {
		t.Errorf("trailer X-Export-Truncated = %q, want false", resp.Trailer.Get("X-Export-Truncated"))
	}

	// The cap cuts an export and says so.
	resp, body = get(t, c, srv.URL+"/export.jsonl")
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var r store.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("jsonl line %d: %v", n, err)
		}
		if r.ID != recs[len(recs)-1-n].ID {
			t.Errorf("jsonl line %d: %s, want %s", n, r.ID, recs[len(recs)-1-n].ID)
		}
		n++
	}
	if n != 25 || resp.Trailer.Get("X-Export-Truncated") != "true" {
		t.Errorf("jsonl: %d lines, truncated %q; want the cap, 25, and true", n, resp.Trailer.Get("X-Export-Truncated"))
	}
}

// The export streams in pages: more records than one store page.
func TestExportPages(t *testing.T) {
	rw, ro := stores(t)
	base := time.Now().UTC().Add(-time.Hour)
	var recs []store.Record
	for i := 0; i < 2500; i++ {
		recs = append(recs, storetest.NewRecord(base.Add(time.Duration(i)*time.Millisecond), i))
	}
	write(t, rw, recs...)
	srv, _ := serve(t, ro, nil)
	_, body := get(t, loggedIn(t, srv.URL), srv.URL+"/export.csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 2501 {
		t.Fatalf("csv of 2500 records: %d rows, %v", len(rows), err)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[0]] = true
	}
	if len(seen) != 2500 {
		t.Errorf("%d distinct records, want 2500", len(seen))
	}
}

// The viewer's store cannot write: the server refuses.
func TestViewerStoreIsReadOnly(t *testing.T) {
	_, ro := stores(t)
	_, err := ro.Write(context.Background(), []store.Record{storetest.NewRecord(time.Now().UTC(), 1)})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write through the viewer's store: %v, want a read-only error", err)
	}
}

type fakeVerifier map[string]viewer.Status

func (f fakeVerifier) VerifyRecords(_ context.Context, ids []string) (map[string]viewer.Status, error) {
	out := map[string]viewer.Status{}
	for _, id := range ids {
		out[id] = f[id]
	}
	return out, nil
}

func TestIntegrityHook(t *testing.T) {
	rw, ro := stores(t)
	recs := seed(t, rw)
	srv, _ := serve(t, ro, func(c *viewer.Config) {
		c.Verifier = fakeVerifier{recs[29].ID: viewer.Verified, recs[28].ID: viewer.Tampered}
	})
	c := loggedIn(t, srv.URL)
	_, page := get(t, c, srv.URL+"/")
	mustContain(t, page, `<td class="integrity verified">verified</td>`, `<td class="integrity tampered">tampered</td>`)
	_, page = get(t, c, srv.URL+"/records/"+recs[28].ID)
	mustContain(t, page, "Integrity: tampered")
}
