// Command auditctl is the operator CLI of otelaudit: it migrates, queries,
// shows and cleans up the audit log in PostgreSQL or MongoDB, and serves a
// read-only web viewer of it.
//
//	auditctl migrate --backend postgres --partition day
//	auditctl query --since 1h --status 5xx --method POST
//	auditctl show 0193a0c2-…
//	auditctl cleanup --days 90 --dry-run
//	auditctl serve --users viewer-users
//	auditctl --backend mongo query --since 1h
//	auditctl keygen --key audit.key
//	auditctl verify --key audit.key.pub --since 7d
//
// Exit codes: 0 ok, 1 runtime error, 2 usage error; verify: 3 when the
// audit log is not intact.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

// usageError marks errors in how auditctl was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"migrate", "create or upgrade the schema (table, partitions, indexes)", runMigrate},
	{"query", "list records matching filters, newest first", runQuery},
	{"show", "print one record in full, headers and bodies included", runShow},
	{"cleanup", "remove records older than --days", runCleanup},
	{"keygen", "make an Ed25519 key pair for integrity checkpoints", runKeygen},
	{"verify", "check records and checkpoints: altered, missing, uncovered", runVerify},
	{"checkpoint", "print the latest signed checkpoint of each writer", runCheckpoint},
	{"serve", "run the read-only web viewer of the audit log", runServe},
	{"passwd", "print a users file line for the viewer (password on stdin)", runPasswd},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		mainUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	global, args, err := splitGlobal(args)
	if errors.Is(err, flag.ErrHelp) {
		mainUsage(stderr)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "auditctl: %v\nRun 'auditctl --help' for usage.\n", err)
		return 2
	}
	if len(args) == 0 {
		mainUsage(stderr)
		return 2
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, slices.Concat(global, args[1:]), stdout, stderr)
		var ue usageError
		var ee exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ee):
			fmt.Fprintf(stderr, "auditctl %s: %v\n", c.name, err)
			return ee.code
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "auditctl %s: %v\nRun 'auditctl %s --help' for usage.\n", c.name, err, c.name)
			return 2
		default:
			fmt.Fprintf(stderr, "auditctl %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "auditctl: unknown command %q\n\n", args[0])
	mainUsage(stderr)
	return 2
}

// splitGlobal takes the connection flags that come before the command name.
// They are handed to the command ahead of its own arguments, so that the
// same flag after the name wins.
func splitGlobal(args []string) (global, rest []string, err error) {
	fs := flag.NewFlagSet("auditctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var c connFlags
	c.register(fs, true)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%v (only connection flags may come before the command)", err)
	}
	rest = fs.Args()
	global = args[:len(args)-len(rest)]
	if n := len(global); n > 0 && global[n-1] == "--" {
		global = global[:n-1]
	}
	return global, rest, nil
}

func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "auditctl — operate the otelaudit audit log in PostgreSQL or MongoDB")
	fmt.Fprintln(w, "\nUsage: auditctl [connection flags] <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, `
Connection flags (before or after the command): --backend postgres|mongo, --dsn or $AUDIT_POSTGRES_DSN,
--uri or $AUDIT_MONGO_URI, --table, --schema, --database, --collection, --timeout.
Text output shows control characters in records escaped (\x1b, \r, \u202e); --raw prints them as stored.
Run 'auditctl <command> --help' for the flags and examples of a command.
Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 verify found the audit log not intact.`)
}
