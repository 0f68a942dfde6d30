// Command service is a small net/http API wrapped with audithttp: the
// service the demo and the end-to-end tests audit.
//
// Records are exported with OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_LOGS_ENDPOINT); when neither is set they are printed to
// stdout. They pass through the durable spool in AUDIT_SPOOL_DIR (a new
// temporary directory when unset), so a collector outage or a crash of the
// service loses none: each record is in the spool before its response is
// sent. AUDIT_ASYNC=1 emits records after the response instead (audithttp's
// default: the client waits for none of it, and a crash loses the records
// of the last millisecond or so). AUDIT_FAIL_CLOSED=1 answers 503 while the
// spool cannot take records. With -traffic the service sends itself a realistic mix of requests
// (secrets in headers, query strings, JSON and form bodies; 2xx, 4xx, 5xx),
// flushes the records and exits.
//
// POST /api/payments charges a card through a stand-in payment processor
// (a server of its own on another port): the outbound call goes through
// audithttp.NewTransport, so it has a record of its own (event
// http.client.audit) in the trace of the request that made it. With
// -policy the audit policy is read from a YAML file (policy.yaml here:
// login metadata-only, the report without its response body).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/otelaudit/otelaudit/instrumentation/auditexport"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	traffic := flag.Bool("traffic", false, "send a demo mix of requests to the service, then exit")
	sourceMasking := flag.Bool("source-masking", true, "mask secrets in the service (the collector masks again)")
	policy := flag.String("policy", "", "audit policy YAML file (see policy.yaml)")
	flag.Parse()
	if err := run(*addr, *traffic, *sourceMasking, *policy); err != nil {
		log.Fatalf("service: %v", err)
	}
}

func run(addr string, traffic, sourceMasking bool, policy string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	lp, spool, err := newLoggerProvider(ctx)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// audithttp emits each record after its response: emit those still
		// pending (the server has stopped by now), then deliver them.
		if err := audithttp.Flush(sctx); err != nil {
			log.Printf("service: %v", err)
		}
		if err := lp.Shutdown(sctx); err != nil {
			log.Printf("service: flush audit records: %v", err)
		}
	}()

	opts := []audithttp.Option{audithttp.WithLoggerProvider(lp), audithttp.WithMasking(sourceMasking),
		audithttp.WithAsync(os.Getenv("AUDIT_ASYNC") == "1")}
	if policy != "" {
		rules, err := audithttp.LoadPolicy(policy)
		if err != nil {
			return err
		}
		opts = append(opts, audithttp.WithPolicy(rules...))
	}
	psp, err := startProcessor()
	if err != nil {
		return err
	}
	defer psp.Close()
	// Outbound calls are audited with the same options: one record per
	// call, joined to the trace and user of the request that made it.
	payments := &http.Client{Transport: audithttp.NewTransport(nil, opts...), Timeout: 10 * time.Second}
	serverOpts := append(opts,
		audithttp.WithExcludePaths("/healthz"),
		audithttp.WithUserID(func(r *http.Request) string { return r.Header.Get("X-User") }),
	)
	if os.Getenv("AUDIT_FAIL_CLOSED") == "1" {
		serverOpts = append(serverOpts, audithttp.WithFailClosed(spool.Health))
	}
	handler := audithttp.NewHandler(withRecordID(newMux(payments, "http://"+psp.Addr().String())), "demo-api", serverOpts...)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("service: listening on http://%s", ln.Addr())

	if traffic {
		if err := sendTraffic(ctx, "http://"+ln.Addr().String()); err != nil {
			return err
		}
	} else {
		select {
		case <-ctx.Done():
		case err := <-errc:
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func newLoggerProvider(ctx context.Context) (*sdklog.LoggerProvider, *auditexport.DurableProcessor, error) {
	var exp sdklog.Exporter
	var err error
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != "" {
		exp, err = otlploghttp.New(ctx)
	} else {
		exp, err = stdoutlog.New(stdoutlog.WithPrettyPrint())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("create log exporter: %w", err)
	}
	dir := os.Getenv("AUDIT_SPOOL_DIR")
	if dir == "" {
		if dir, err = os.MkdirTemp("", "audit-spool-"); err != nil {
			return nil, nil, fmt.Errorf("create spool directory: %w", err)
		}
		log.Printf("service: AUDIT_SPOOL_DIR not set, spooling audit records in %s", dir)
	}
	// The durable processor writes each record to disk as audithttp emits
	// it and exports from there, retrying until the collector takes it: a
	// collector outage or a crash of this service loses no record (with
	// AUDIT_ASYNC=1, a crash loses those audithttp had not yet emitted).
	dp, err := auditexport.NewDurableProcessor(exp, dir)
	if err != nil {
		return nil, nil, err
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(serviceName()))
	return sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(dp),
		sdklog.WithAllowKeyDuplication(), // audithttp never emits a key twice
	), dp, nil
}

func serviceName() string {
	if s := os.Getenv("OTEL_SERVICE_NAME"); s != "" {
		return s
	}
	return "demo-service"
}

// withRecordID returns each request's audit record id to the client, so a
// support request can be matched to its record.
func withRecordID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := audithttp.RecordID(r.Context()); id != "" {
			w.Header().Set("X-Audit-Record-Id", id)
		}
		h.ServeHTTP(w, r)
	})
}

type order struct {
	ID     string  `json:"id"`
	Item   string  `json:"item"`
	Amount float64 `json:"amount"`
	Card   string  `json:"card,omitempty"`
}

func newMux(payments *http.Client, processor string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/payments", func(w http.ResponseWriter, r *http.Request) {
		charge(w, r, payments, processor)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("password") == "" {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		audithttp.SetUserID(r.Context(), r.PostForm.Get("username"))
		w.Header().Set("Content-Type", "application/json")
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "sess-" + r.PostForm.Get("username"), HttpOnly: true})
		json.NewEncoder(w).Encode(map[string]string{"access_token": "eyJhbGciOiJIUzI1NiJ9.demo.sig", "token_type": "bearer"})
	})
	mux.HandleFunc("GET /api/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "0" {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(order{ID: r.PathValue("id"), Item: "book", Amount: 12.5})
	})
	mux.HandleFunc("POST /api/orders", func(w http.ResponseWriter, r *http.Request) {
		var o order
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			http.Error(w, "invalid JSON", http.StatusBadRequest)
			return
		}
		if o.Amount < 0 {
			http.Error(w, "ledger unavailable", http.StatusServiceUnavailable)
			return
		}
		o.ID, o.Card = "o-1001", ""
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(o)
	})
	mux.HandleFunc("GET /api/report", func(w http.ResponseWriter, r *http.Request) {
		// A large text response: captured up to the limit, flagged truncated.
		w.Header().Set("Content-Type", "text/plain")
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(w, "line %04d of the quarterly report\n", i)
		}
	})
	mux.HandleFunc("GET /api/logo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain") // mislabelled binary: stored as bytes
		w.Write([]byte{0x89, 'P', 'N', 'G', 0x00, 0xff, 0xfe, 0x01})
	})
	mux.HandleFunc("POST /api/upload", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "received %d bytes\n", n)
	})
	return mux
}

// sendTraffic sends the demo mix and reports each exchange on stderr.
func sendTraffic(ctx context.Context, base string) error {
	type req struct {
		method, path, ct, body string
		headers                map[string]string
	}
	reqs := []req{
		{"POST", "/login", "application/x-www-form-urlencoded", "username=alice&password=correct-horse-battery", nil},
		{"POST", "/login", "application/x-www-form-urlencoded", "username=mallory", nil},
		{"GET", "/api/orders/42?api_key=demo-query-secret&expand=items", "", "", map[string]string{"Authorization": "Bearer demo-header-secret", "X-User": "alice"}},
		{"GET", "/api/orders/0", "", "", map[string]string{"X-User": "alice"}},
		{"POST", "/api/orders", "application/json", `{"item":"pen","amount":3,"card":"4111 1111 1111 1111","password":"demo-json-secret"}`, map[string]string{"X-User": "bob", "Cookie": "session=demo-cookie-secret"}},
		{"POST", "/api/orders", "application/json", `{"item":"refund","amount":-1}`, map[string]string{"X-User": "bob"}},
		{"POST", "/api/payments", "application/json", `{"amount":12.5,"card":"4111 1111 1111 1111","cvv":"123"}`, map[string]string{"X-User": "carol"}},
		{"POST", "/api/upload", "application/octet-stream", strings.Repeat("\x00\x01binary", 2000), nil},
		{"GET", "/healthz", "", "", nil},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, r := range reqs {
		hr, err := http.NewRequestWithContext(ctx, r.method, base+r.path, strings.NewReader(r.body))
		if err != nil {
			return fmt.Errorf("build %s %s: %w", r.method, r.path, err)
		}
		if r.ct != "" {
			hr.Header.Set("Content-Type", r.ct)
		}
		for k, v := range r.headers {
			hr.Header.Set(k, v)
		}
		resp, err := client.Do(hr)
		if err != nil {
			return fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		log.Printf("service: %s %s -> %d", r.method, r.path, resp.StatusCode)
	}
	return nil
}

// charge forwards a payment to the processor: an outbound call that
// carries secrets in its query (api_key), a header (Authorization) and its
// JSON body (the card), all masked in its audit record.
func charge(w http.ResponseWriter, r *http.Request, payments *http.Client, processor string) {
	var p struct {
		Amount float64 `json:"amount"`
		Card   string  `json:"card"`
		CVV    string  `json:"cvv"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, "invalid JSON", http.StatusBadRequest)
		return
	}
	body, _ := json.Marshal(map[string]any{"amount": p.Amount, "currency": "EUR", "card": map[string]string{"number": p.Card, "cvv": p.CVV}})
	req, err := http.NewRequestWithContext(r.Context(), "POST", processor+"/v1/charges?api_key=demo-psp-key", bytes.NewReader(body))
	if err != nil {
		http.Error(w, "payment request", http.StatusInternalServerError)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer demo-psp-secret")
	resp, err := payments.Do(req)
	if err != nil {
		http.Error(w, "payment processor unavailable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	io.Copy(w, resp.Body)
}

// startProcessor starts the stand-in payment processor on a port of its
// own; it is another party's service, so it is not audited here.
func startProcessor() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the payment processor: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/charges", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"ch_1001","status":"succeeded","card":{"brand":"visa","last4":"1111"}}`)
	})
	go (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	return ln, nil
}
