//go:build linux

package auditexport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// Environment of a child process (killChild) started by spoolKilled.
const (
	childDirEnv       = "OTELAUDIT_TEST_SPOOL_CHILD_DIR"
	childRecordsEnv   = "OTELAUDIT_TEST_SPOOL_CHILD_RECORDS"
	childWritePathEnv = "OTELAUDIT_TEST_SPOOL_CHILD_WRITE_PATH"
	killedMaxBytes    = 16 << 20 // 1 MiB segments
)

// TestMain runs killChild instead of the tests when started as the child
// of spoolKilled.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		if err := killChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		return
	}
	os.Exit(m.Run())
}

// killChild spools records while the collector is down, says so on
// stdout, and waits to be killed.
func killChild(dir string) error {
	n, err := strconv.Atoi(os.Getenv(childRecordsEnv))
	if err != nil {
		return err
	}
	mapSegments.Store(os.Getenv(childWritePathEnv) == "")
	p, err := NewDurableProcessor(failing{}, dir, WithMaxBytes(killedMaxBytes))
	if err != nil {
		return err
	}
	for i := range n {
		if err := p.OnEmit(context.Background(), newRecord(i, 3000)); err != nil {
			return err
		}
	}
	fmt.Println("spooled")
	select {} // until SIGKILL
}

// spoolKilled runs a child process that spools n records in dir and kills
// it with SIGKILL once OnEmit returned for the last one: between entries.
func spoolKilled(t *testing.T, dir string, n int, writePath bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childRecordsEnv+"="+strconv.Itoa(n))
	if writePath {
		cmd.Env = append(cmd.Env, childWritePathEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "spooled\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, out)
	if err := cmd.Wait(); err == nil {
		t.Fatal("the child exited by itself")
	}
}

// dataEnd returns the offset after the last intact entry of segment path.
func dataEnd(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	off := int64(len(segmentHeader))
	for {
		_, next, err := readEntry(f, off, st.Size())
		if err != nil {
			return off
		}
		off = next
	}
}

// TestKilledBetweenEntries: a process killed (SIGKILL) after OnEmit
// returned leaves its records in a preallocated segment followed by zeros.
// The next start delivers every record and reports no damage: zeros are
// the unwritten rest of the segment, not a torn write. With a torn entry
// after them, the records are kept and the tail is cut off and reported;
// a zero tail in a segment that is not the last one (a crash while the next
// was being created) is cut off too. The write path recovers the same way.
func TestKilledBetweenEntries(t *testing.T) {
	const n = 50
	cases := []struct {
		name      string
		writePath bool
		damage    func(t *testing.T, seg string)
		tornTails float64
	}{
		{name: "mapped"},
		{name: "write path", writePath: true},
		{name: "torn entry after them", tornTails: 1, damage: func(t *testing.T, seg string) {
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			// The start of an entry, as a write cut short leaves it.
			end := dataEnd(t, seg)
			torn := b[len(segmentHeader) : len(segmentHeader)+entryHeaderLen+100]
			f, err := os.OpenFile(seg, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(torn, end); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "crash while rotating", damage: func(t *testing.T, seg string) {
			id, _ := segmentID(filepath.Base(seg))
			next := filepath.Join(filepath.Dir(seg), segmentName(id+1))
			if err := os.WriteFile(next, []byte(segmentHeader), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			spoolKilled(t, dir, n, c.writePath)
			segs := segments(t, dir)
			if len(segs) != 1 {
				t.Fatalf("%d segments, want 1", len(segs))
			}
			used := dataEnd(t, segs[0])
			size := fileSize(t, segs[0])
			if c.writePath && size != used || !c.writePath && size != killedMaxBytes/segmentsPerSpool {
				t.Fatalf("killed segment is %d bytes holding %d: not what the write path leaves", size, used)
			}
			if c.damage != nil {
				c.damage(t, segs[0])
			}
			h := newHarness(t, dir, newSink())
			if v := h.metric(t, "otelaudit.spool.damage", kind(damageTornTail)); v != c.tornTails {
				t.Errorf("torn tails reported: %v, want %v", v, c.tornTails)
			}
			if got := fileSize(t, segs[0]); got != used {
				t.Errorf("recovered segment is %d bytes, want cut to its entries' %d", got, used)
			}
			if err := h.p.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := h.sink.ids(); !slices.Equal(got, seq(0, n)) {
				t.Fatalf("got %v", got)
			}
			if v := h.metric(t, "otelaudit.spool.damage"); v != c.tornTails {
				t.Errorf("damage reported: %v, want %v", v, c.tornTails)
			}
		})
	}
}
