package audithttp_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// benchServerEnv, set in the environment of a child started by
// serverProcess, makes the test binary serve the benchmarks' handlers
// instead of running tests.
const benchServerEnv = "OTELAUDIT_BENCH_SERVER"

// TestMain serves the benchmarks' handlers when started by serverProcess.
func TestMain(m *testing.M) {
	if names := os.Getenv(benchServerEnv); names != "" {
		if err := serveBench(strings.Split(names, ",")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		return
	}
	os.Exit(m.Run())
}

// serveBench serves each named handler of servers() on a loopback port,
// prints "name url" lines and an empty line, and serves until stdin
// closes, then flushes the pending records.
func serveBench(names []string) error {
	hs, shutdown := servers()
	defer shutdown()
	for _, n := range names {
		h, ok := hs[n]
		if !ok {
			return fmt.Errorf("no handler %q", n)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		fmt.Println(n, srv.URL)
	}
	fmt.Println()
	_, _ = bufio.NewReader(os.Stdin).ReadString(0) // until the parent closes stdin
	return nil
}

// forEachPlacement runs bench against the named servers in this process
// (in-process) and in a process of their own (server-process); urls maps
// each name to the URL the benchmarks post to.
func forEachPlacement(b *testing.B, names []string, bench func(b *testing.B, urls map[string]string)) {
	const path = "/api/orders?id=7&token=x"
	b.Run("in-process", func(b *testing.B) {
		hs, shutdown := servers()
		defer shutdown()
		urls := map[string]string{}
		for _, n := range names {
			srv := httptest.NewServer(hs[n])
			defer srv.Close()
			urls[n] = srv.URL + path
		}
		bench(b, urls)
	})
	b.Run("server-process", func(b *testing.B) {
		urls := serverProcess(b, names)
		for n := range urls {
			urls[n] += path
		}
		bench(b, urls)
	})
}

// serverProcess starts this test binary as a server of the named
// handlers and returns their base URLs; the process ends with the
// benchmark.
func serverProcess(b *testing.B, names []string) map[string]string {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), benchServerEnv+"="+strings.Join(names, ","))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("server process: %v", err)
		}
		cancel()
	})
	urls := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "" {
		name, url, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			b.Fatalf("server process printed %q", sc.Text())
		}
		urls[name] = url
	}
	if len(urls) != len(names) {
		b.Fatalf("server process served %d of %d handlers: %v", len(urls), len(names), sc.Err())
	}
	return urls
}
