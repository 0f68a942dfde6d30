package audithttp_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencies keeps the wrapper light: a service that imports it must
// compile no collector, database or masking-processor code.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{
		"go.opentelemetry.io/collector", "github.com/jackc/pgx", "go.mongodb.org/mongo-driver",
		"github.com/open-telemetry/opentelemetry-collector-contrib", "google.golang.org/grpc",
		"github.com/otelaudit/otelaudit/store", "github.com/otelaudit/otelaudit/processor",
		"github.com/otelaudit/otelaudit/exporter",
	}
	// Every package outside the standard library must come from this
	// list: growing it is a decision, not a side effect. The YAML parser
	// is here for LoadPolicy; it has no dependencies of its own.
	allowed := []string{
		"github.com/otelaudit/otelaudit/auditconv", "github.com/otelaudit/otelaudit/internal/mask",
		"github.com/otelaudit/otelaudit/instrumentation/audithttp",
		"go.opentelemetry.io/otel", "go.opentelemetry.io/auto/sdk", "github.com/go-logr/",
		"github.com/cespare/xxhash/", "github.com/felixge/httpsnoop", "go.yaml.in/yaml/v3",
	}
	n := 0
	for _, pkg := range strings.Fields(string(out)) {
		n++
		for _, f := range forbidden {
			if strings.HasPrefix(pkg, f) {
				t.Errorf("audithttp depends on %s", pkg)
			}
		}
		if first, _, _ := strings.Cut(pkg, "/"); strings.Contains(first, ".") && !slices.ContainsFunc(allowed, func(a string) bool {
			return strings.HasPrefix(pkg, a)
		}) {
			t.Errorf("audithttp depends on %s, which is not in the allowed list", pkg)
		}
	}
	if n < 10 {
		t.Fatalf("go list printed only %d packages: %s", n, out)
	}
}
