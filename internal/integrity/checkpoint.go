package integrity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// noteHeader opens the text of every checkpoint note.
const noteHeader = "otelaudit checkpoint/v1"

// EntrySize is the size of one entry of store.Checkpoint.Entries: the
// record id (16 bytes), its timestamp in Unix milliseconds (8 bytes, big
// endian) and its leaf hash (32 bytes).
const EntrySize = 16 + 8 + 32

// Entry is one record a checkpoint covers.
type Entry struct {
	ID   [16]byte
	Time time.Time // truncated to the millisecond
	Leaf [32]byte
}

// AppendEntry appends e in its stored form.
func AppendEntry(dst []byte, e Entry) []byte {
	dst = append(dst, e.ID[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Time.UnixMilli()))
	return append(dst, e.Leaf[:]...)
}

// ParseEntries reads a checkpoint's entries.
func ParseEntries(b []byte) ([]Entry, error) {
	if len(b)%EntrySize != 0 {
		return nil, fmt.Errorf("entries: %d bytes is not a multiple of %d", len(b), EntrySize)
	}
	out := make([]Entry, len(b)/EntrySize)
	for i := range out {
		e := b[i*EntrySize:]
		copy(out[i].ID[:], e[:16])
		out[i].Time = time.UnixMilli(int64(binary.BigEndian.Uint64(e[16:24]))).UTC()
		copy(out[i].Leaf[:], e[24:56])
	}
	return out, nil
}

// Root returns the RFC 6962 Merkle tree hash of leaves.
func Root(leaves [][32]byte) [32]byte {
	var root [32]byte
	if len(leaves) == 0 {
		copy(root[:], rfc6962.DefaultHasher.EmptyRoot())
		return root
	}
	f := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := f.NewEmptyRange(0)
	for i := range leaves {
		// Append fails only for a hash of the wrong size: never here.
		_ = r.Append(leaves[i][:], nil)
	}
	h, _ := r.GetRootHash(nil)
	copy(root[:], h)
	return root
}

// Body is the signed content of a checkpoint.
type Body struct {
	Writer      string
	Seq         int64
	Time        time.Time
	Count       int64
	Root        [32]byte
	Prev        []byte // SHA-256 of the previous signed note of the writer; nil for the first
	First, Last time.Time
}

// Text renders b as the note text (docs/integrity.md).
func (b Body) Text() string {
	prev := "-"
	if b.Prev != nil {
		prev = base64.StdEncoding.EncodeToString(b.Prev)
	}
	return fmt.Sprintf("%s\nwriter %s\nseq %d\ntime %s\ncount %d\nroot %s\nprev %s\nrange %s %s\nencoding %d\n",
		noteHeader, b.Writer, b.Seq, b.Time.UTC().Format(time.RFC3339Nano), b.Count,
		base64.StdEncoding.EncodeToString(b.Root[:]), prev,
		b.First.UTC().Format(TimeLayout), b.Last.UTC().Format(TimeLayout), EncodingVersion)
}

// ParseBody reads the text of a checkpoint note.
func ParseBody(text string) (Body, error) {
	var b Body
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 9 || lines[0] != noteHeader {
		return b, fmt.Errorf("not an %s note", noteHeader)
	}
	field := func(i int, name string) (string, error) {
		v, ok := strings.CutPrefix(lines[i], name+" ")
		if !ok {
			return "", fmt.Errorf("line %d: want %q", i+1, name)
		}
		return v, nil
	}
	var errs []error
	get := func(i int, name string) string {
		v, err := field(i, name)
		errs = append(errs, err)
		return v
	}
	var err error
	b.Writer = get(1, "writer")
	b.Seq, err = strconv.ParseInt(get(2, "seq"), 10, 64)
	errs = append(errs, err)
	b.Time, err = time.Parse(time.RFC3339Nano, get(3, "time"))
	errs = append(errs, err)
	b.Count, err = strconv.ParseInt(get(4, "count"), 10, 64)
	errs = append(errs, err)
	root, err := base64.StdEncoding.DecodeString(get(5, "root"))
	errs = append(errs, err)
	if err == nil && len(root) != 32 {
		errs = append(errs, errors.New("root: not 32 bytes"))
	}
	copy(b.Root[:], root)
	if p := get(6, "prev"); p != "-" {
		b.Prev, err = base64.StdEncoding.DecodeString(p)
		errs = append(errs, err)
	}
	first, last, _ := strings.Cut(get(7, "range"), " ")
	b.First, err = time.Parse(TimeLayout, first)
	errs = append(errs, err)
	b.Last, err = time.Parse(TimeLayout, last)
	errs = append(errs, err)
	if v := get(8, "encoding"); v != strconv.Itoa(EncodingVersion) {
		errs = append(errs, fmt.Errorf("encoding version %q: this auditctl reads %d", v, EncodingVersion))
	}
	if err := errors.Join(errs...); err != nil {
		return Body{}, fmt.Errorf("checkpoint note: %w", err)
	}
	return b, nil
}

// NoteHash is what the next checkpoint of a writer names as prev.
func NoteHash(signed []byte) []byte {
	h := sha256.Sum256(signed)
	return h[:]
}

var writerName = regexp.MustCompile(`^[A-Za-z0-9._:/@-]{1,200}$`)

// ValidWriter checks a writer name: 1 to 200 letters, digits and ._:/@-.
func ValidWriter(w string) error {
	if !writerName.MatchString(w) {
		return fmt.Errorf("writer %q: want 1 to 200 letters, digits and . _ : / @ -", w)
	}
	return nil
}

// Sealer writes batches with their checkpoints for one writer: one chain,
// one batch at a time, so that the chain has no gaps.
type Sealer struct {
	writer string
	signer note.Signer
	now    func() time.Time

	mu     sync.Mutex
	loaded bool   // seq and prev are the store's latest
	seq    int64  // the last checkpoint's seq
	prev   []byte // the last checkpoint's note hash
}

// NewSealer returns a sealer for writer, signing with signer.
func NewSealer(writer string, signer note.Signer) (*Sealer, error) {
	if err := ValidWriter(writer); err != nil {
		return nil, err
	}
	return &Sealer{writer: writer, signer: signer, now: time.Now}, nil
}

// Writer returns the writer name.
func (z *Sealer) Writer() string { return z.writer }

// Write writes records to s with the checkpoint of the batch. After any
// error, the chain's head is read back from the store before the next
// write, so that a checkpoint whose commit was in doubt is neither lost
// nor repeated.
func (z *Sealer) Write(ctx context.Context, s store.CheckpointStore, records []store.Record) (store.WriteResult, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if !z.loaded {
		cp, ok, err := s.LastCheckpoint(ctx, z.writer)
		if err != nil {
			return store.WriteResult{}, fmt.Errorf("integrity: read the last checkpoint of %s: %w", z.writer, err)
		}
		z.seq, z.prev = 0, nil
		if ok {
			z.seq, z.prev = cp.Seq, NoteHash(cp.Note)
		}
		z.loaded = true
	}
	var made *store.Checkpoint
	res, err := s.WriteSealed(ctx, records, func(stored []store.Record) (store.Checkpoint, error) {
		cp, err := z.seal(stored)
		made = &cp
		return cp, err
	})
	var degraded *store.DegradedError
	var rejected *store.RejectedError
	switch {
	case err != nil && !errors.As(err, &degraded) && !errors.As(err, &rejected):
		z.loaded = false
	case made != nil:
		z.seq, z.prev = made.Seq, NoteHash(made.Note)
	}
	return res, err
}

// seal makes the next checkpoint over stored.
func (z *Sealer) seal(stored []store.Record) (store.Checkpoint, error) {
	b := Body{Writer: z.writer, Seq: z.seq + 1, Time: z.now().UTC(), Count: int64(len(stored)), Prev: z.prev}
	entries := make([]byte, 0, len(stored)*EntrySize)
	leaves := make([][32]byte, len(stored))
	buf := make([]byte, 0, 4096)
	for i := range stored {
		r := &stored[i]
		id, err := auditconv.ParseRecordID(r.ID)
		if err != nil {
			return store.Checkpoint{}, fmt.Errorf("integrity: record %q: %w", r.ID, err)
		}
		buf = AppendRecord(buf[:0], r)
		leaves[i] = leafOf(buf)
		ts := r.Timestamp.UTC().Truncate(time.Millisecond)
		if i == 0 || ts.Before(b.First) {
			b.First = ts
		}
		if i == 0 || ts.After(b.Last) {
			b.Last = ts
		}
		entries = AppendEntry(entries, Entry{ID: id, Time: ts, Leaf: leaves[i]})
	}
	b.Root = Root(leaves)
	signed, err := note.Sign(&note.Note{Text: b.Text()}, z.signer)
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("integrity: sign checkpoint: %w", err)
	}
	return store.Checkpoint{Writer: b.Writer, Seq: b.Seq, Time: b.Time, First: b.First, Last: b.Last,
		Note: signed, Entries: entries}, nil
}

// SplitNotes splits text holding signed notes one after the other (what
// auditctl checkpoint prints) into notes.
func SplitNotes(text []byte) [][]byte {
	var out [][]byte
	for len(bytes.TrimSpace(text)) > 0 {
		// A note is its text, a blank line, and signature lines, which
		// begin with "— ".
		blank := bytes.Index(text, []byte("\n\n"))
		if blank < 0 {
			return append(out, text)
		}
		end := blank + 2
		for end < len(text) && bytes.HasPrefix(text[end:], []byte("— ")) {
			nl := bytes.IndexByte(text[end:], '\n')
			if nl < 0 {
				end = len(text)
				break
			}
			end += nl + 1
		}
		out = append(out, text[:end])
		text = bytes.TrimLeft(text[end:], "\n")
	}
	return out
}
