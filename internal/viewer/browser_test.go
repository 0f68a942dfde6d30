package viewer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// chromiumPath finds headless Chromium (Debian's chromium package, which
// scripts/services.sh installs). Without it the test fails under CI and is
// skipped elsewhere.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium not found (run scripts/services.sh up, which installs it)")
	}
	t.Skip("Chromium not found (run scripts/services.sh up, which installs it)")
	return ""
}

// TestBrowser drives the viewer in headless Chromium: log in, filter by
// status 5xx, search a body term, open a record, download the CSV. It
// keeps a screenshot of the list; set VIEWER_SCREENSHOT to a path to keep
// it there (docs/viewer.png is made so).
func TestBrowser(t *testing.T) {
	exe := chromiumPath(t)
	rw, ro := stores(t)
	base := time.Now().UTC().Truncate(time.Second).Add(-6 * time.Hour)
	var recs []store.Record
	for i := 0; i < 300; i++ {
		r := storetest.NewRecord(base.Add(time.Duration(i)*71*time.Second), i)
		r.Status = []int{200, 200, 201, 200, 304, 404, 200, 500, 200, 401}[i%10]
		if r.Status == 500 {
			r.ResponseBody = fmt.Sprintf(`{"error":"payment gateway timeout","order":%d}`, i)
			if i%20 == 7 {
				r.ResponseBody = fmt.Sprintf(`{"error":"refund rejected","order":%d}`, i)
			}
		}
		recs = append(recs, r)
	}
	write(t, rw, recs...)
	srv, _ := serve(t, ro, nil)

	downloads, yes := t.TempDir(), true
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()

	progress := chromedp.Events(ctx, browser.DownloadProgress)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	step("log in",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &yes})
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Submit(chromedp.CSS(`form.login`)),
		chromedp.WaitVisible(chromedp.CSS(`table.records`)))
	step("filter by status 5xx",
		chromedp.SetValue(chromedp.CSS(`input[name=status]`), "5xx"),
		chromedp.Submit(chromedp.CSS(`form.filters`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=status][value="5xx"]`)))
	step("search a body term",
		chromedp.SetValue(chromedp.CSS(`input[name=q]`), "refund"),
		chromedp.Submit(chromedp.CSS(`form.filters`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=q][value="refund"]`)))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	status := text(`table.records tbody tr td:nth-child(3)`)
	list, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	step("open a record",
		chromedp.Click(chromedp.CSS(`table.records tbody tr td.path a`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#permalink`)))
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	recordH1 := text(`h1`)
	step("download the CSV",
		chromedp.Navigate(list),
		chromedp.WaitVisible(chromedp.CSS(`#export-csv`)),
		chromedp.Click(chromedp.CSS(`#export-csv`)))
	if strings.TrimSpace(status) != "500" {
		t.Errorf("first filtered row has status %q, want 500", status)
	}
	if !strings.HasPrefix(title, "Record ") || !strings.Contains(recordH1, "/api/v1/items/") {
		t.Errorf("record page: title %q, h1 %q", title, recordH1)
	}
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the CSV download did not complete: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	b, err := os.ReadFile(filepath.Join(downloads, guid))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range recs {
		if r.Status >= 500 && strings.Contains(r.ResponseBody, "refund") {
			want++
		}
	}
	if len(rows)-1 != want || want == 0 {
		t.Errorf("downloaded CSV has %d records, want the %d refund 5xx", len(rows)-1, want)
	}
	for _, row := range rows[1:] {
		if row[3] != "500" {
			t.Errorf("CSV row with status %s", row[3])
		}
	}
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := os.Getenv("VIEWER_SCREENSHOT")
	if path == "" {
		path = filepath.Join(t.TempDir(), "viewer.png")
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
