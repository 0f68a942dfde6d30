package main

import (
	"math/rand/v2"
	"slices"
)

// minRunsForInterval is the fewest runs a verdict is drawn from; with
// fewer the median alone is reported.
const minRunsForInterval = 5

// summary is what the runs of one goal's subject show.
type summary struct {
	n              int
	median, lo, hi float64 // median and range
	meeting        int     // runs whose figure meets the goal
	ciLow, ciHigh  float64 // 90 % bootstrap interval of the median, when hasInterval
}

// hasInterval reports whether there are runs enough for an interval.
func (s summary) hasInterval() bool { return s.n >= minRunsForInterval }

func summarize(g goal, xs []float64) summary {
	s := summary{n: len(xs), median: median(xs), lo: slices.Min(xs), hi: slices.Max(xs)}
	if !g.informational() {
		for _, x := range xs {
			if g.meets(x) {
				s.meeting++
			}
		}
	}
	if s.hasInterval() {
		s.ciLow, s.ciHigh = bootstrapMedian(xs)
	}
	return s
}

// verdict says whether the runs show the goal met. The machines these
// benchmarks run on drift between runs, so a single median decides
// little: the goal is met (or not) when the whole 90 % interval of the
// median is on one side of the limit, and otherwise within the runs'
// spread.
func verdict(g goal, s summary) string {
	switch {
	case g.informational():
		return "—"
	case g.bothParts:
		return ""
	case !s.hasInterval():
		if g.meets(s.median) {
			return "median meets it (too few runs to say more)"
		}
		return "median misses it (too few runs to say more)"
	case g.meets(s.ciLow) && g.meets(s.ciHigh):
		return "met"
	case !g.meets(s.ciLow) && !g.meets(s.ciHigh):
		return "not met"
	default:
		return "within the runs' spread"
	}
}

// bootstrapMedian returns the 5th and 95th percentiles of the medians of
// 2000 resamples of xs. The generator is seeded, so the same runs always
// give the same interval.
func bootstrapMedian(xs []float64) (float64, float64) {
	const resamples = 2000
	rng := rand.New(rand.NewPCG(1, 2))
	meds := make([]float64, resamples)
	sample := make([]float64, len(xs))
	for i := range meds {
		for j := range sample {
			sample[j] = xs[rng.IntN(len(xs))]
		}
		meds[i] = median(sample)
	}
	slices.Sort(meds)
	return meds[resamples*5/100], meds[resamples*95/100]
}

// median returns the median of xs, which it does not modify.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
