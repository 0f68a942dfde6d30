package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pprofGate lets config/pprof.yaml add its extension to the list of the
// config it overlays instead of replacing it.
const pprofGate = "--feature-gates=confmap.enableMergeAppendOption"

// startProfiled starts the collector with config and the config/pprof.yaml
// overlay, its pprof endpoint on a free port, which it returns.
func startProfiled(t testing.TB, e *env, config string, vars ...string) (*process, string) {
	t.Helper()
	addr := freePort(t)
	p := start(t, collectorBin, append(e.vars(), append(vars, "AUDIT_PPROF="+addr)...),
		"--config", filepath.Join(root, "config", config), "--config", filepath.Join(root, "config", "pprof.yaml"), pprofGate)
	waitHTTP(t, p, "http://"+e.health+"/")
	return p, addr
}

// TestPprofOverlay: with config/pprof.yaml every shipped config serves
// /debug/pprof/ on the address of AUDIT_PPROF, and a CPU profile; without
// it, nothing listens on pprof's default port and the resolved config has
// no pprof extension.
func TestPprofOverlay(t *testing.T) {
	needCollector(t)
	for _, config := range shippedConfigs {
		t.Run(config, func(t *testing.T) {
			e := newEnv(t)
			p, addr := startProfiled(t, e, config)
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile?seconds=1"} {
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					t.Fatalf("GET %s: %v\n%s", path, err, tail(p.out.String()))
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || len(body) == 0 {
					t.Errorf("GET %s: %d %v, %d bytes", path, resp.StatusCode, err, len(body))
				}
				if path == "/debug/pprof/" && !strings.Contains(string(body), "goroutine") {
					t.Errorf("GET %s does not list the profiles:\n%.300s", path, body)
				}
			}
			p.stop(t)
			if !strings.Contains(p.out.String(), "net/http/pprof") {
				t.Errorf("the collector's log does not show pprof starting:\n%s", tail(p.out.String()))
			}
		})
	}
}

// TestShippedConfigsNoPprof: the shipped configs alone do not serve pprof:
// they do not mention it, and a collector started with one starts its
// extensions but no pprof server.
func TestShippedConfigsNoPprof(t *testing.T) {
	needCollector(t)
	for _, config := range shippedConfigs {
		t.Run(config, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root, "config", config))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), "pprof") {
				t.Errorf("%s mentions pprof", config)
			}
			e := newEnv(t)
			p := startCollector(t, e, config)
			p.stop(t)
			log := p.out.String()
			if !strings.Contains(log, "Extension started.") {
				t.Fatalf("%s: no extension started:\n%s", config, tail(log))
			}
			if strings.Contains(log, "pprof") {
				t.Errorf("%s: the collector started pprof:\n%s", config, tail(log))
			}
		})
	}
}

// cpuTime returns the user+system CPU time the process has used so far,
// from /proc/<pid>/stat (utime and stime, in USER_HZ = 100 ticks a second
// on Linux).
func cpuTime(t testing.TB, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The command name, field 2, may hold spaces: count from its ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	var ticks int64
	for _, s := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100)
}
