package audithttp

import (
	"context"
	"fmt"
	"sync"
)

// generation counts the records handed off between two calls of Flush.
// Its finished channel closes once they, and those of every earlier
// generation, are emitted.
type generation struct {
	wg       sync.WaitGroup
	prev     *generation // read only by the goroutine that closes finished
	finished chan struct{}
}

func (g *generation) done() { g.wg.Done() }

var (
	genMu      sync.Mutex
	currentGen = &generation{finished: make(chan struct{})}
)

// track counts one more record in the current generation.
func track() *generation {
	genMu.Lock()
	g := currentGen
	g.wg.Add(1)
	genMu.Unlock()
	return g
}

// Flush waits until the record of every exchange and outbound call that
// ended before it was called has been emitted to its LoggerProvider, or
// until ctx is done. Records are built and emitted after the response is
// complete, so a service calls Flush when it shuts down, after
// http.Server.Shutdown has returned and before the LoggerProvider's
// ForceFlush or Shutdown, which deliver what Flush has emitted.
func Flush(ctx context.Context) error {
	genMu.Lock()
	g := currentGen
	currentGen = &generation{prev: g, finished: make(chan struct{})}
	genMu.Unlock()
	go func() {
		g.wg.Wait()
		if g.prev != nil {
			<-g.prev.finished
			g.prev = nil // let earlier generations go
		}
		close(g.finished)
	}()
	select {
	case <-g.finished:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audithttp: flushing pending audit records: %w", ctx.Err())
	}
}
