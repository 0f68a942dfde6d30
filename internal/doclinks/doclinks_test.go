package doclinks

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// root is the module's root, from this package's directory.
const root = "../.."

// skipDirs are directories that hold no documentation of the project's own:
// build output, installed tools, the test services' state.
var skipDirs = map[string]bool{"_build": true, "bin": true, "node_modules": true, "testdata": true}

var (
	linkRE   = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)
	anchorRE = regexp.MustCompile(`<a (?:id|name)="([^"]+)"`)
)

// TestMarkdownLinks checks every relative link in every Markdown file of
// the repository: the file it names exists, and its fragment, if any, is
// a heading (as GitHub makes anchors of headings) or an <a id> of that file.
func TestMarkdownLinks(t *testing.T) {
	files := markdownFiles(t)
	if len(files) < 10 {
		t.Fatalf("found %d Markdown files under %s, expected the README, docs/ and the component READMEs", len(files), root)
	}
	anchors := map[string]map[string]bool{}
	checked := 0
	for _, file := range files {
		links, err := readLinks(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			target, fragment, _ := strings.Cut(l.target, "#")
			path := file
			if target != "" {
				path = filepath.Join(filepath.Dir(file), target)
			}
			checked++
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s:%d: link %q: %v", rel(file), l.line, l.target, err)
				continue
			}
			if fragment == "" {
				continue
			}
			if !strings.HasSuffix(path, ".md") {
				t.Errorf("%s:%d: link %q: a fragment into a file that is not Markdown", rel(file), l.line, l.target)
				continue
			}
			if anchors[path] == nil {
				a, err := readAnchors(path)
				if err != nil {
					t.Fatal(err)
				}
				anchors[path] = a
			}
			if !anchors[path][fragment] {
				t.Errorf("%s:%d: link %q: %s has no heading or anchor %q", rel(file), l.line, l.target, rel(path), fragment)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative links found: the link pattern or the file walk is broken")
	}
}

// TestSlug pins the heading-to-anchor rule the link check relies on.
func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"What the OpenTelemetry SDK costs, and the change that would save it": "what-the-opentelemetry-sdk-costs-and-the-change-that-would-save-it",
		"Latency and the machine's idle CPU":                                  "latency-and-the-machines-idle-cpu",
		"Performance: the collector to PostgreSQL":                            "performance-the-collector-to-postgresql",
		"`auditctl serve` and [the viewer](docs/viewer.md)":                   "auditctl-serve-and-the-viewer",
		"Keys, formats & the_record":                                          "keys-formats--the_record",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

func markdownFiles(t *testing.T) []string { return repoFiles(t, ".md") }

// repoFiles returns the repository's files whose names end in suffix,
// outside hidden directories and skipDirs.
func repoFiles(t *testing.T, suffix string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || skipDirs[d.Name()]) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, suffix) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return files
}

type link struct {
	target string
	line   int
}

// readLinks returns the relative links of a Markdown file, outside fenced
// code blocks.
func readLinks(path string) ([]link, error) {
	var links []link
	err := eachProseLine(path, func(n int, line string) {
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links = append(links, link{target: target, line: n})
		}
	})
	return links, err
}

// readAnchors returns the anchors a Markdown file offers: one per heading,
// numbered as GitHub numbers repeated ones, and every <a id> or <a name>.
func readAnchors(path string) (map[string]bool, error) {
	anchors := map[string]bool{}
	seen := map[string]int{}
	err := eachProseLine(path, func(_ int, line string) {
		for _, m := range anchorRE.FindAllStringSubmatch(line, -1) {
			anchors[m[1]] = true
		}
		text, ok := heading(line)
		if !ok {
			return
		}
		s := slug(text)
		if k := seen[s]; k > 0 {
			anchors[fmt.Sprintf("%s-%d", s, k)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
	})
	return anchors, err
}

// eachProseLine calls fn with each line of a Markdown file that is not
// inside a fenced code block, numbered from 1.
func eachProseLine(path string, fn func(n int, line string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("doclinks: open %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	fenced := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			fn(n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("doclinks: read %s: %w", path, err)
	}
	return nil
}

// heading returns the text of an ATX heading line ("## Text").
func heading(line string) (string, bool) {
	level := 0
	for level < len(line) && line[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || level == len(line) || line[level] != ' ' {
		return "", false
	}
	return strings.TrimSpace(line[level:]), true
}

// inlineLinkRE matches a link inside a heading, whose anchor keeps only the
// link's text.
var inlineLinkRE = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// slug makes an anchor of a heading as GitHub does: links reduced to their
// text, lower case, every character but letters, digits, spaces, '-' and
// '_' dropped, spaces turned into '-'.
func slug(text string) string {
	text = inlineLinkRE.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func rel(path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}
