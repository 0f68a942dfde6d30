package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/store"
)

// exitError carries an exit code other than 1 out of a command: verify
// returns 3 when the store is not intact.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// progressEvery is how often verify reports progress on stderr.
const progressEvery = 2 * time.Second

func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var key, name string
	fs := newFlagSet("keygen", "keygen --key FILE [--name NAME]", `  auditctl keygen --key /etc/otelaudit/audit.key
      (private key in audit.key, mode 0600; public key in audit.key.pub)`, stderr)
	fs.StringVar(&key, "key", "", "file for the private key (required); the public key goes to FILE.pub")
	fs.StringVar(&name, "name", "otelaudit", "key name, shown in signatures")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if key == "" {
		return usagef("--key is required")
	}
	vkey, err := integrity.GenerateKey(key, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "private key: %s (mode 0600: keep it on the collector only)\npublic key:  %s.pub\n%s\n",
		escapeTerminal(key), escapeTerminal(key), escapeTerminal(vkey))
	return nil
}

// checkpointStore opens the backend the flags select as a store that
// keeps checkpoints.
func (c *connFlags) checkpointStore(ctx context.Context) (store.CheckpointStore, error) {
	backends, err := c.backends(false)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s, err := c.open(octx, backends[0])
	if err != nil {
		return nil, err
	}
	cs, ok := s.(store.CheckpointStore)
	if !ok {
		s.Close()
		return nil, fmt.Errorf("the %s store keeps no checkpoints", backends[0])
	}
	return cs, nil
}

func runCheckpoint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c connFlags
	var writer string
	fs := newFlagSet("checkpoint", "checkpoint [--writer NAME] [flags]", `  auditctl checkpoint > saved-$(date +%F).ckpt
      (keep the file away from the database; check later with verify --against)
  auditctl checkpoint --writer node-1/postgres`, stderr)
	c.register(fs, false)
	fs.StringVar(&writer, "writer", "", "only this writer's latest checkpoint")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	s, err := c.checkpointStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return err
	}
	latest := map[string]store.Checkpoint{}
	var order []string
	for _, cp := range cps {
		if writer != "" && cp.Writer != writer {
			continue
		}
		if _, ok := latest[cp.Writer]; !ok {
			order = append(order, cp.Writer)
		}
		latest[cp.Writer] = cp // ordered by seq: the last one stays
	}
	if len(order) == 0 {
		return errors.New("no checkpoints in the store (is integrity on in the exporter?)")
	}
	for i, w := range order {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		// A signed note is lines of printable text; escaped line by line
		// all the same, it is unchanged unless the store holds something
		// else.
		lines := strings.Split(string(latest[w].Note), "\n")
		for i := range lines {
			lines[i] = escapeTerminal(lines[i])
		}
		fmt.Fprint(stdout, strings.Join(lines, "\n"))
	}
	return nil
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c connFlags
	var key, since, until, output, against string
	fs := newFlagSet("verify", "verify --key FILE.pub [--since T] [--until T] [--against FILE] [flags]", `  auditctl verify --key audit.key.pub
  auditctl verify --key audit.key.pub --since 7d --output json
  auditctl verify --key audit.key.pub --against saved-2026-01-31.ckpt
Exit codes: 0 intact, 3 something is wrong (each finding printed), 1 runtime error, 2 usage error.`, stderr)
	c.register(fs, false)
	fs.StringVar(&key, "key", "", "public key file (auditctl keygen's FILE.pub; required)")
	fs.StringVar(&since, "since", "", "check records from this time (RFC 3339) or this long ago (1h, 7d)")
	fs.StringVar(&until, "until", "", "check records before this time or this long ago")
	fs.StringVar(&output, "output", "text", "text or json")
	fs.StringVar(&against, "against", "", "a file of checkpoints saved earlier (auditctl checkpoint): each must still be in the store")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if key == "" {
		return usagef("--key is required: the public key file written by auditctl keygen")
	}
	if output != "text" && output != "json" {
		return usagef("--output must be text or json, not %q", output)
	}
	now := time.Now()
	var opts integrity.Options
	var err error
	if opts.Since, err = parseTime("--since", since, now); err != nil {
		return err
	}
	if opts.Until, err = parseTime("--until", until, now); err != nil {
		return err
	}
	if _, err := c.backends(false); err != nil {
		return err
	}
	v, err := integrity.LoadVerifier(key)
	if err != nil {
		return err
	}
	if against != "" {
		b, err := os.ReadFile(against)
		if err != nil {
			return fmt.Errorf("--against: %w", err)
		}
		if opts.Against = integrity.SplitNotes(b); len(opts.Against) == 0 {
			return fmt.Errorf("--against: %s holds no checkpoint", against)
		}
	}
	start, last := time.Now(), time.Now()
	opts.Progress = func(n int64) {
		if time.Since(last) >= progressEvery {
			last = time.Now()
			fmt.Fprintf(stderr, "verify: %d records checked (%s)\n", n, time.Since(start).Round(time.Second))
		}
	}
	s, err := c.checkpointStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := integrity.Verify(ctx, s, v, opts)
	if err != nil {
		return err
	}
	if output == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		stdout.Write(escapeJSON(b))
		fmt.Fprintln(stdout)
	} else {
		printReport(stdout, rep)
	}
	if !rep.Intact {
		return exitError{3, fmt.Sprintf("%d problem(s): the audit log is not intact", len(rep.Problems))}
	}
	return nil
}

func printReport(w io.Writer, rep integrity.Report) {
	for _, p := range rep.Problems {
		line := p.Kind
		if p.ID != "" {
			line += " record " + p.ID
		}
		if !p.Time.IsZero() {
			line += " at " + p.Time.Format(integrity.TimeLayout)
		}
		if p.Writer != "" {
			line += fmt.Sprintf(" (checkpoint %s#%d)", p.Writer, p.Seq)
		}
		fmt.Fprintln(w, escapeTerminal(line+": "+p.Detail))
	}
	for _, p := range rep.Pruned {
		fmt.Fprintln(w, escapeTerminal(fmt.Sprintf("pruned: %d record(s) of checkpoint %s#%d, %s to %s, removed by retention (cut %s)",
			p.Count, p.Writer, p.Seq, p.FirstTS, p.LastTS, rep.PrunedCut.Format(time.RFC3339))))
	}
	status := "intact"
	if !rep.Intact {
		status = fmt.Sprintf("NOT intact: %d problem(s)", len(rep.Problems))
	}
	fmt.Fprintf(w, "%s: %d records checked, %d covered, %d checkpoints from %d writer(s)\n",
		status, rep.Records, rep.Covered, rep.Checkpoints, len(rep.Writers))
}
