package integrity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// Kinds of Problem.
const (
	Altered    = "altered"    // a record differs from what its checkpoint covered
	Missing    = "missing"    // a covered record is gone, newer than the retention cut
	Uncovered  = "uncovered"  // a record no checkpoint covers
	Checkpoint = "checkpoint" // a checkpoint is broken, edited, out of chain or missing
	Truncated  = "truncated"  // a checkpoint saved earlier is not in the store
)

// Problem is one finding of Verify.
type Problem struct {
	Kind   string    `json:"kind"`
	ID     string    `json:"id,omitempty"`
	Time   time.Time `json:"ts,omitzero"`
	Writer string    `json:"writer,omitempty"`
	Seq    int64     `json:"seq,omitempty"`
	Detail string    `json:"detail"`
}

// Pruned is a checkpoint's records that retention removed.
type Pruned struct {
	Writer      string    `json:"writer"`
	Seq         int64     `json:"seq"`
	First, Last time.Time `json:"-"`
	FirstTS     string    `json:"first_ts"`
	LastTS      string    `json:"last_ts"`
	Count       int       `json:"count"`
}

// Report is the outcome of Verify.
type Report struct {
	Intact      bool             `json:"intact"`
	Checkpoints int              `json:"checkpoints"`
	Writers     map[string]int64 `json:"writers"` // each writer's latest seq
	Records     int64            `json:"records"` // records read and recomputed
	Covered     int64            `json:"covered"`
	PrunedCut   time.Time        `json:"pruned_before,omitzero"`
	Pruned      []Pruned         `json:"pruned,omitempty"`
	Problems    []Problem        `json:"problems"`
}

// Options tune Verify.
type Options struct {
	// Since and Until bound the records checked (Since <= ts < Until,
	// both truncated to the millisecond); the checkpoints' signatures and
	// chains are always checked whole.
	Since, Until time.Time
	// Against are signed checkpoints saved outside the store: each must
	// still be in it, unchanged.
	Against [][]byte
	// Progress, when set, is called after each page of records with the
	// running count.
	Progress func(records int64)
}

// coverage is what the checkpoints say about one record.
type coverage struct {
	ts   time.Time
	leaf [32]byte
	from *store.Checkpoint
	seen bool
}

// Verify checks every checkpoint's signature, chain and root, recomputes
// the leaf of every record in the range and compares it with the
// checkpoints', and reports altered, missing and uncovered records, broken
// or missing checkpoints, and the records retention removed. A record may
// be covered by several checkpoints (a batch delivered again); it must
// match all of them.
func Verify(ctx context.Context, s store.CheckpointStore, v note.Verifier, opts Options) (Report, error) {
	rep := Report{Writers: map[string]int64{}, Problems: []Problem{}}
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	rep.Checkpoints = len(cps)
	if rep.PrunedCut, err = s.PrunedBefore(ctx); err != nil {
		return rep, err
	}
	// Checkpoints hold times to the millisecond: so does the range.
	opts.Since, opts.Until = opts.Since.Truncate(time.Millisecond), opts.Until.Truncate(time.Millisecond)
	inRange := func(t time.Time) bool {
		return (opts.Since.IsZero() || !t.Before(opts.Since)) && (opts.Until.IsZero() || t.Before(opts.Until))
	}
	covered := map[[16]byte][]*coverage{}
	verifiers := note.VerifierList(v)
	var prev *store.Checkpoint
	var prevBody Body
	unsigned := 0
	for i := range cps {
		cp := &cps[i]
		if prev != nil && prev.Writer != cp.Writer {
			prev = nil
		}
		body, entries, perr := openCheckpoint(cp, verifiers)
		var unverified *note.UnverifiedNoteError
		if errors.As(perr, &unverified) {
			unsigned++
		}
		if perr != nil {
			rep.problem(Problem{Kind: Checkpoint, Writer: cp.Writer, Seq: cp.Seq, Time: cp.Time, Detail: perr.Error()})
			prev = nil
			continue
		}
		rep.Writers[cp.Writer] = cp.Seq
		switch {
		case prev == nil && cp.Seq != 1 && (i == 0 || cps[i-1].Writer != cp.Writer):
			rep.problem(Problem{Kind: Checkpoint, Writer: cp.Writer, Seq: cp.Seq,
				Detail: fmt.Sprintf("checkpoints 1 to %d of this writer are missing", cp.Seq-1)})
		case prev != nil && cp.Seq != prevBody.Seq+1:
			rep.problem(Problem{Kind: Checkpoint, Writer: cp.Writer, Seq: cp.Seq,
				Detail: fmt.Sprintf("checkpoints %d to %d of this writer are missing", prevBody.Seq+1, cp.Seq-1)})
		case prev != nil && !bytes.Equal(body.Prev, NoteHash(prev.Note)):
			rep.problem(Problem{Kind: Checkpoint, Writer: cp.Writer, Seq: cp.Seq,
				Detail: fmt.Sprintf("does not chain to checkpoint %d: its prev hash differs", prevBody.Seq)})
		}
		prev, prevBody = cp, body
		for _, e := range entries {
			c := &coverage{ts: e.Time, leaf: e.Leaf, from: cp}
			covered[e.ID] = append(covered[e.ID], c)
		}
	}
	if unsigned > 0 && unsigned == len(cps) {
		rep.problem(Problem{Kind: Checkpoint, Detail: fmt.Sprintf(
			"no checkpoint is signed by the public key given (key name %q): wrong key, or checkpoints signed by another", v.Name())})
	}
	if err := rep.checkAgainst(cps, verifiers, opts.Against); err != nil {
		return rep, err
	}
	if err := rep.scan(ctx, s, opts, covered); err != nil {
		return rep, err
	}
	rep.unseen(covered, inRange)
	rep.Intact = len(rep.Problems) == 0
	return rep, nil
}

func (rep *Report) problem(p Problem) { rep.Problems = append(rep.Problems, p) }

// openCheckpoint checks a stored checkpoint's signature, fields and root,
// and returns its body and entries.
func openCheckpoint(cp *store.Checkpoint, verifiers note.Verifiers) (Body, []Entry, error) {
	n, err := note.Open(cp.Note, verifiers)
	if err != nil {
		return Body{}, nil, fmt.Errorf("signature: %w", err)
	}
	body, err := ParseBody(n.Text)
	if err != nil {
		return Body{}, nil, err
	}
	if body.Writer != cp.Writer || body.Seq != cp.Seq {
		return Body{}, nil, fmt.Errorf("stored as %s#%d but signed as %s#%d", cp.Writer, cp.Seq, body.Writer, body.Seq)
	}
	entries, err := ParseEntries(cp.Entries)
	if err != nil {
		return Body{}, nil, err
	}
	if int64(len(entries)) != body.Count {
		return Body{}, nil, fmt.Errorf("signed for %d records, %d stored with it", body.Count, len(entries))
	}
	leaves := make([][32]byte, len(entries))
	for i, e := range entries {
		leaves[i] = e.Leaf
	}
	if Root(leaves) != body.Root {
		return Body{}, nil, errors.New("the records listed with it do not hash to its signed root")
	}
	return body, entries, nil
}

// checkAgainst checks that each saved checkpoint is in the store as it was
// saved.
func (rep *Report) checkAgainst(cps []store.Checkpoint, verifiers note.Verifiers, saved [][]byte) error {
	for _, s := range saved {
		n, err := note.Open(s, verifiers)
		if err != nil {
			rep.problem(Problem{Kind: Checkpoint, Detail: fmt.Sprintf("saved checkpoint: signature: %v", err)})
			continue
		}
		body, err := ParseBody(n.Text)
		if err != nil {
			return fmt.Errorf("saved checkpoint: %w", err)
		}
		found := false
		for i := range cps {
			if cps[i].Writer == body.Writer && cps[i].Seq == body.Seq {
				found = true
				if !bytes.Equal(bytes.TrimSpace(cps[i].Note), bytes.TrimSpace(s)) {
					rep.problem(Problem{Kind: Truncated, Writer: body.Writer, Seq: body.Seq,
						Detail: "the store's checkpoint differs from the one saved"})
				}
			}
		}
		if !found {
			rep.problem(Problem{Kind: Truncated, Writer: body.Writer, Seq: body.Seq, Time: body.Time, Detail: fmt.Sprintf(
				"checkpoint saved earlier is not in the store (its latest for this writer is %d): the store was truncated or rolled back",
				rep.Writers[body.Writer])})
		}
	}
	return nil
}

// verifyPage is the page size of the scan: small enough for a slow server
// to answer one page within a timeout, large enough to cost few round
// trips.
const verifyPage = 1000

// scan reads the records in the range, newest first, and compares each
// with its coverage.
func (rep *Report) scan(ctx context.Context, s store.Store, opts Options, covered map[[16]byte][]*coverage) error {
	f := store.Filter{Since: opts.Since, Until: opts.Until, Limit: verifyPage}
	buf := make([]byte, 0, 4096)
	for {
		page, err := s.Query(ctx, f)
		if err != nil {
			return err
		}
		for i := range page {
			r := &page[i]
			rep.Records++
			id, err := auditconv.ParseRecordID(r.ID)
			if err != nil {
				rep.problem(Problem{Kind: Uncovered, ID: r.ID, Time: r.Timestamp, Detail: "record id is not a UUID"})
				continue
			}
			cs := covered[id]
			if len(cs) == 0 {
				rep.problem(Problem{Kind: Uncovered, ID: r.ID, Time: r.Timestamp, Detail: "no checkpoint covers this record"})
				continue
			}
			buf = AppendRecord(buf[:0], r)
			leaf := leafOf(buf)
			rep.Covered++
			for _, c := range cs {
				c.seen = true
				if c.leaf != leaf {
					rep.problem(Problem{Kind: Altered, ID: r.ID, Time: r.Timestamp, Writer: c.from.Writer, Seq: c.from.Seq,
						Detail: "the stored record differs from the one this checkpoint covered"})
					break
				}
			}
		}
		if opts.Progress != nil {
			opts.Progress(rep.Records)
		}
		if len(page) < f.Limit {
			return nil
		}
		f.After = store.CursorAfter(page[len(page)-1])
	}
}

// unseen reports the covered records in range that the scan did not find:
// pruned when older than the retention cut, missing otherwise.
func (rep *Report) unseen(covered map[[16]byte][]*coverage, inRange func(time.Time) bool) {
	pruned := map[*store.Checkpoint]*Pruned{}
	var missing []Problem
	for id, cs := range covered {
		c := cs[0]
		if c.seen || !inRange(c.ts) {
			continue
		}
		if !rep.PrunedCut.IsZero() && c.ts.Before(rep.PrunedCut) {
			for _, c := range cs {
				p := pruned[c.from]
				if p == nil {
					p = &Pruned{Writer: c.from.Writer, Seq: c.from.Seq, First: c.ts, Last: c.ts}
					pruned[c.from] = p
				}
				p.Count++
				p.First, p.Last = minTime(p.First, c.ts), maxTime(p.Last, c.ts)
			}
			continue
		}
		missing = append(missing, Problem{Kind: Missing, ID: auditconv.FormatRecordID(id), Time: c.ts, Writer: c.from.Writer,
			Seq: c.from.Seq, Detail: "covered by a checkpoint, not in the store"})
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].Time.Before(missing[j].Time) })
	rep.Problems = append(rep.Problems, missing...)
	for _, p := range pruned {
		p.FirstTS, p.LastTS = p.First.Format(TimeLayout), p.Last.Format(TimeLayout)
		rep.Pruned = append(rep.Pruned, *p)
	}
	sort.Slice(rep.Pruned, func(i, j int) bool {
		a, b := rep.Pruned[i], rep.Pruned[j]
		return a.Writer < b.Writer || a.Writer == b.Writer && a.Seq < b.Seq
	})
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
