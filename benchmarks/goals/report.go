package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// runs groups results into runs, by label and then benchmark. The results
// of one run follow one another, so a sub-benchmark seen again in the
// same label and benchmark starts the next run.
func runs(results []result) (labels []string, byLabel map[string]map[string][]run) {
	byLabel = map[string]map[string][]run{}
	for _, res := range results {
		benches, ok := byLabel[res.label]
		if !ok {
			labels = append(labels, res.label)
			benches = map[string][]run{}
			byLabel[res.label] = benches
		}
		rs := benches[res.bench]
		if len(rs) == 0 || rs[len(rs)-1][res.sub] != nil {
			rs = append(rs, run{})
		}
		rs[len(rs)-1][res.sub] = res.metrics
		benches[res.bench] = rs
	}
	return labels, byLabel
}

// row is one goal's figures for one subject over the runs.
type row struct {
	goal    goal
	subject string
	values  []float64
}

// rows returns every goal's figures for each subject the runs report, in
// the order of goals and then of the subjects' first appearance.
func rows(benches map[string][]run) []row {
	var out []row
	for _, g := range goals {
		var subjects []string
		values := map[string][]float64{}
		for _, r := range benches[g.bench] {
			for _, f := range g.figures(r) {
				if _, seen := values[f.subject]; !seen {
					subjects = append(subjects, f.subject)
				}
				values[f.subject] = append(values[f.subject], f.value)
			}
		}
		for _, s := range subjects {
			out = append(out, row{goal: g, subject: s, values: values[s]})
		}
	}
	return out
}

// report writes one table per label of the goals the results bear on.
func report(w io.Writer, results []result) error {
	labels, byLabel := runs(results)
	printed := false
	for _, label := range labels {
		rs := rows(byLabel[label])
		if len(rs) == 0 {
			continue
		}
		if printed {
			fmt.Fprintln(w)
		}
		printed = true
		if label != "" {
			fmt.Fprintf(w, "%s:\n\n", label)
		}
		fmt.Fprintln(w, "| goal | subject | runs | median [range] | runs meeting it | 90 % interval of the median | verdict |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		for _, r := range rs {
			fmt.Fprintln(w, formatRow(r))
		}
	}
	if !printed {
		benches := slices.Sorted(maps.Keys(benchNames()))
		return fmt.Errorf("no results of %s in the input", strings.Join(benches, ", "))
	}
	return nil
}

func formatRow(r row) string {
	g, s := r.goal, summarize(r.goal, r.values)
	f := func(x float64) string { return fmt.Sprintf(g.format, x) }
	title := g.title
	if !g.informational() {
		rel := "≥"
		if g.atMost {
			rel = "≤"
		}
		title += " " + rel + " " + strconv.FormatFloat(g.limit, 'g', -1, 64)
	}
	cells := []string{title, r.subject, fmt.Sprint(s.n), f(s.median) + " [" + f(s.lo) + ", " + f(s.hi) + "]",
		fmt.Sprintf("%d of %d", s.meeting, s.n), "", verdict(g, s)}
	if g.bothParts {
		cells[0], cells[3] = g.title, ""
	}
	if g.informational() {
		cells[4] = ""
	}
	if s.hasInterval() && !g.bothParts {
		cells[5] = "[" + f(s.ciLow) + ", " + f(s.ciHigh) + "]"
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// benchNames returns the benchmarks the goals read.
func benchNames() map[string]bool {
	names := map[string]bool{}
	for _, g := range goals {
		names[g.bench] = true
	}
	return names
}

// sortedKeys returns r's sub-benchmark names in order.
func sortedKeys(r run) []string { return slices.Sorted(maps.Keys(r)) }
