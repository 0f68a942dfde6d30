// Command goals reads the output of repeated benchmark runs and prints,
// for each of the project's performance goals (docs/performance.md), each
// subject's figure over the runs: its median and range, how many runs meet
// the goal, the 90 % bootstrap interval of the median and a verdict.
//
//	go run ./benchmarks/goals [FILE...]
//
// It reads the named files, or standard input, as `go test -bench` writes
// them; `make bench-goals` runs the benchmarks and pipes them here. A line
// may start with a label ("released", "changed", as scripts/sdk-change.sh
// writes them): each label gets a table of its own. Each ratio is taken
// within one run, against the baseline measured in the same command.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := readAndReport(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "goals:", err)
		os.Exit(1)
	}
}

// readAndReport reads the results from files (standard input when there
// are none) and writes the goal tables to w.
func readAndReport(w io.Writer, files []string) error {
	var in []io.Reader
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = append(in, f)
	}
	if len(in) == 0 {
		in = append(in, os.Stdin)
	}
	var results []result
	for i, r := range in {
		res, err := parse(r)
		if err != nil {
			if len(files) > 0 {
				err = fmt.Errorf("%s: %w", files[i], err)
			}
			return err
		}
		results = append(results, res...)
	}
	if len(results) == 0 {
		return errors.New("no benchmark results in the input")
	}
	return report(w, results)
}
