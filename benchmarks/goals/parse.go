package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// result is one benchmark line: its label (the first word of a line that
// does not start with "Benchmark", as scripts/sdk-change.sh writes
// "released" and "changed"), the benchmark and sub-benchmark names without
// the GOMAXPROCS suffix, and its metrics by unit.
type result struct {
	label, bench, sub string
	metrics           map[string]float64
}

// parse reads the lines of `go test -bench` output and returns the
// benchmark results in their order. Other lines are skipped; a benchmark
// line whose metrics cannot be read is an error naming the line.
func parse(r io.Reader) ([]result, error) {
	var out []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		label := ""
		if len(f) > 1 && !strings.HasPrefix(f[0], "Benchmark") {
			label, f = f[0], f[1:]
		}
		if len(f) == 0 || !strings.HasPrefix(f[0], "Benchmark") || len(f) < 4 {
			continue // a header, PASS, a log line, or a benchmark that failed
		}
		res, err := parseResult(label, f)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading benchmark output: %w", err)
	}
	return out, nil
}

// parseResult reads the fields of one benchmark line: name, iterations,
// then value and unit pairs.
func parseResult(label string, f []string) (result, error) {
	name := trimProcs(f[0])
	bench, sub, _ := strings.Cut(name, "/")
	res := result{label: label, bench: bench, sub: sub, metrics: map[string]float64{}}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return res, fmt.Errorf("%s: iterations %q: %w", f[0], f[1], err)
	}
	pairs := f[2:]
	if len(pairs)%2 != 0 {
		return res, fmt.Errorf("%s: a value without a unit at the end", f[0])
	}
	for i := 0; i < len(pairs); i += 2 {
		v, err := strconv.ParseFloat(pairs[i], 64)
		if err != nil {
			return res, fmt.Errorf("%s: value %q of %s: %w", f[0], pairs[i], pairs[i+1], err)
		}
		res.metrics[pairs[i+1]] = v
	}
	return res, nil
}

// trimProcs removes the "-N" GOMAXPROCS suffix the testing package adds to
// a benchmark's name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}
