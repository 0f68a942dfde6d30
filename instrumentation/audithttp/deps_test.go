package audithttp_test

import (
	"os/exec"
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
	n := 0
	for _, pkg := range strings.Fields(string(out)) {
		n++
		for _, f := range forbidden {
			if strings.HasPrefix(pkg, f) {
				t.Errorf("audithttp depends on %s", pkg)
			}
		}
	}
	if n < 10 {
		t.Fatalf("go list printed only %d packages: %s", n, out)
	}
}
