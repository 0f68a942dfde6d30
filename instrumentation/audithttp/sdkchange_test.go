package audithttp_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSDKChangeApplies keeps docs/performance.md's section on the log SDK
// true: the change in scripts/sdklog-newrecord.patch, which make
// bench-sdk-change measures, still applies to the SDK version go.mod names.
// When it stops applying, the SDK has changed there (perhaps fixed
// upstream): re-measure, then update the patch, that section and the
// README's advice on WithAllowKeyDuplication.
func TestSDKChangeApplies(t *testing.T) {
	const mod = "go.opentelemetry.io/otel/sdk/log"
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", mod).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", mod, err)
	}
	dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	src, err := os.ReadFile(filepath.Join(dir, "logger.go"))
	if err != nil {
		t.Fatal(err)
	}
	patch, err := os.ReadFile(filepath.Join("..", "..", "scripts", "sdklog-newrecord.patch"))
	if err != nil {
		t.Fatal(err)
	}
	hunks := patchHunks(string(patch))
	if len(hunks) == 0 {
		t.Fatal("scripts/sdklog-newrecord.patch has no hunks")
	}
	for i, h := range hunks {
		if !strings.Contains(string(src), h) {
			t.Errorf("hunk %d of scripts/sdklog-newrecord.patch does not apply to %s %s/logger.go; it expects:\n%s", i+1, mod, version, h)
		}
	}
}

// patchHunks returns the text each hunk of a unified diff expects to find:
// its context and removed lines, without their markers.
func patchHunks(patch string) []string {
	var hunks []string
	var cur *strings.Builder
	for line := range strings.Lines(patch) {
		switch {
		case strings.HasPrefix(line, "@@"):
			if cur != nil {
				hunks = append(hunks, cur.String())
			}
			cur = &strings.Builder{}
		case cur == nil, strings.HasPrefix(line, "+"):
			// the patch's header, or a line the change adds
		case strings.HasPrefix(line, " "), strings.HasPrefix(line, "-"):
			cur.WriteString(line[1:])
		case line == "\n":
			cur.WriteString(line) // an empty context line whose space was trimmed
		}
	}
	if cur != nil {
		hunks = append(hunks, cur.String())
	}
	return hunks
}
