package doclinks

import (
	"os"
	"regexp"
	"testing"
)

var (
	namedTestRE = regexp.MustCompile("`((?:Test|Fuzz|Benchmark)[A-Z][A-Za-z0-9_]*)")
	testFuncRE  = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]+)\(`)
)

// TestNamedTestsExist checks that every test, fuzz target and benchmark the
// Markdown names (in backquotes) is defined in a test file of the
// repository: a guarantee names the test that shows it, and a renamed test
// must not leave the README pointing at nothing.
func TestNamedTestsExist(t *testing.T) {
	defined := testFuncs(t)
	if len(defined) < 100 {
		t.Fatalf("found %d test functions under %s: the walk is broken", len(defined), root)
	}
	named := 0
	for _, file := range markdownFiles(t) {
		err := eachProseLine(file, func(n int, line string) {
			for _, m := range namedTestRE.FindAllStringSubmatch(line, -1) {
				named++
				if !defined[m[1]] {
					t.Errorf("%s:%d: names %s, which no test file defines", rel(file), n, m[1])
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if named < 50 {
		t.Fatalf("the Markdown names %d tests: the pattern is broken", named)
	}
}

// testFuncs returns the names of the test, fuzz and benchmark functions
// defined in the repository's test files.
func testFuncs(t *testing.T) map[string]bool {
	t.Helper()
	defined := map[string]bool{}
	for _, path := range repoFiles(t, "_test.go") {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		for _, m := range testFuncRE.FindAllSubmatch(src, -1) {
			defined[string(m[1])] = true
		}
	}
	return defined
}
