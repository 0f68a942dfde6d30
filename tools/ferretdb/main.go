// Command ferretdb-test runs an embedded FerretDB (SQLite backend) as the
// MongoDB-wire server that otelaudit's tests and demo talk to.
//
// It lives in its own module so that the otelaudit module never depends on
// FerretDB. Usage:
//
//	ferretdb-test -listen 127.0.0.1:27017 -dir /var/tmp/otelaudit-ferretdb
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "otelaudit-ferretdb"), "directory for the SQLite databases")
	flag.Parse()

	if err := run(*listen, *dir); err != nil {
		log.Fatalf("ferretdb-test: %v", err)
	}
}

func run(listen, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create data dir %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolve data dir %s: %w", dir, err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return fmt.Errorf("configure: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb-test: listening on %s, data in %s", listen, abs)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}
