package auditexport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A segment file is a 16-byte header followed by entries:
//
//	entry = magic:[4]byte length:uint32 crc:uint32 payload:[length]byte
//
// Integers are little-endian. crc is the CRC-32C (Castagnoli) of the length
// field and the payload, so a damaged length is caught as well. The magic
// lets a reader find the next entry after a damaged one. The payload is the
// append time (int64 Unix nanoseconds) followed by the record (codec.go).
const (
	segmentHeader  = "otaudit-spool\x00\x00\x01"
	entryHeaderLen = 12
	// maxEntryLen bounds the length a reader believes, so that a damaged
	// length field cannot make it allocate without limit.
	maxEntryLen = 1 << 30
	segmentExt  = ".seg"
	damagedExt  = ".damaged"
)

var entryMagic = [4]byte{0xa7, 'a', 'u', 'd'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// errTorn: an entry runs past the end of the data (a write cut short).
	errTorn = errors.New("entry cut short")
	// errDamaged: bytes that are not a valid entry.
	errDamaged = errors.New("entry damaged (bad marker, length or checksum)")
)

// frameEntry fills in the header of buf, whose first entryHeaderLen bytes
// were reserved for it and whose rest is the payload.
func frameEntry(buf []byte) {
	copy(buf, entryMagic[:])
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(buf)-entryHeaderLen))
	crc := crc32.Update(0, castagnoli, buf[4:8])
	crc = crc32.Update(crc, castagnoli, buf[entryHeaderLen:])
	binary.LittleEndian.PutUint32(buf[8:], crc)
}

func segmentName(id uint64) string { return fmt.Sprintf("%020d%s", id, segmentExt) }

func segmentID(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, segmentExt)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil
}

// createSegment creates segment id in dir for size bytes (header included),
// writes its header and makes it ready for appends (preallocate).
func createSegment(dir string, id uint64, size int64) (segmentFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, segmentName(id)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (segmentFile, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if _, err := f.WriteString(segmentHeader); err != nil {
		return fail(err)
	}
	sf, err := preallocate(f, size)
	if err != nil {
		return fail(err)
	}
	return sf, nil
}

// allZero reports whether the bytes of r from off to limit are all zero:
// the unwritten rest of a preallocated segment.
func allZero(r io.ReaderAt, off, limit int64) (bool, error) {
	size := min(64<<10, max(limit-off, 0))
	buf, zeros := make([]byte, size), make([]byte, size)
	for off < limit {
		n := min(size, limit-off)
		if _, err := r.ReadAt(buf[:n], off); err != nil {
			return false, err
		}
		if !bytes.Equal(buf[:n], zeros[:n]) {
			return false, nil
		}
		off += n
	}
	return true, nil
}

// checkHeader reports whether f starts with the segment header.
func checkHeader(f *os.File) error {
	var h [len(segmentHeader)]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	if string(h[:]) != segmentHeader {
		return fmt.Errorf("not a spool segment (header %q)", h[:])
	}
	return nil
}

// readEntry reads the entry at off, whose data ends at limit. It returns
// the payload and the offset after the entry; io.EOF when off is at limit,
// errTorn when an entry starts but does not end before limit, errDamaged
// when the bytes at off are not a valid entry, or the read error.
func readEntry(f io.ReaderAt, off, limit int64) ([]byte, int64, error) {
	if off >= limit {
		return nil, off, io.EOF
	}
	if limit-off < entryHeaderLen {
		return nil, off, errTorn
	}
	var h [entryHeaderLen]byte
	if _, err := f.ReadAt(h[:], off); err != nil {
		return nil, off, err
	}
	if !bytes.Equal(h[:4], entryMagic[:]) {
		return nil, off, errDamaged
	}
	n := int64(binary.LittleEndian.Uint32(h[4:]))
	if n > maxEntryLen {
		return nil, off, errDamaged
	}
	end := off + entryHeaderLen + n
	if end > limit {
		return nil, off, errTorn
	}
	p := make([]byte, n)
	if _, err := f.ReadAt(p, off+entryHeaderLen); err != nil {
		return nil, off, err
	}
	crc := crc32.Update(0, castagnoli, h[4:8])
	if crc32.Update(crc, castagnoli, p) != binary.LittleEndian.Uint32(h[8:]) {
		return nil, off, errDamaged
	}
	return p, end, nil
}

// readChunk is how much the sender and recovery read from a segment at a
// time: one read system call for a run of entries instead of two per entry.
const readChunk = 256 << 10

// chunkReader serves reads of a segment up to limit from a buffer filled a
// chunk at a time. Callers copy out what they keep, so the buffer is reused.
type chunkReader struct {
	f     io.ReaderAt
	limit int64
	buf   []byte // bytes of the file from off
	off   int64
	spare []byte
}

func newChunkReader(f io.ReaderAt, limit int64, spare []byte) *chunkReader {
	return &chunkReader{f: f, limit: limit, spare: spare}
}

func (c *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= c.off && off+int64(len(p)) <= c.off+int64(len(c.buf)) {
		return copy(p, c.buf[off-c.off:]), nil
	}
	n := min(int64(readChunk), c.limit-off)
	if n <= int64(len(p)) {
		return c.f.ReadAt(p, off) // large entry, or the end of the data
	}
	if cap(c.spare) < int(n) {
		c.spare = make([]byte, readChunk)
	}
	buf := c.spare[:n]
	m, err := c.f.ReadAt(buf, off)
	if m < len(p) {
		c.buf = nil
		return copy(p, buf[:m]), err
	}
	c.buf, c.off = buf[:m], off
	return copy(p, buf), nil
}

// resync finds the first valid entry after off and before limit: the
// reader skips damaged bytes up to it. It returns limit when there is none.
func resync(f io.ReaderAt, off, limit int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for pos := off + 1; pos < limit; {
		n := min(int64(len(buf)), limit-pos)
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return 0, err
		}
		i := bytes.Index(buf[:n], entryMagic[:])
		if i < 0 {
			// The marker may straddle two reads.
			pos += max(n-int64(len(entryMagic))+1, 1)
			continue
		}
		cand := pos + int64(i)
		if _, _, err := readEntry(f, cand, limit); err == nil {
			return cand, nil
		} else if !errors.Is(err, errDamaged) && !errors.Is(err, errTorn) {
			return 0, err
		}
		pos = cand + 1
	}
	return limit, nil
}
