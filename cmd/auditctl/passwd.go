package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/otelaudit/otelaudit/internal/viewer"
)

func runPasswd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("passwd", "passwd NAME < password",
		"  printf '%s\\n' \"$PW\" | auditctl passwd alice >> viewer-users", stderr)
	var c connFlags
	c.register(fs, true) // accepted and ignored, like every command's
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("passwd takes one user name")
	}
	name := fs.Arg(0)
	if err := viewer.CheckUserName(name); err != nil {
		return usagef("%v", err)
	}
	line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		return usagef("the password on standard input must have at least 8 characters")
	}
	fmt.Fprintf(stdout, "%s:%s\n", name, viewer.HashPassword(pw))
	return nil
}
