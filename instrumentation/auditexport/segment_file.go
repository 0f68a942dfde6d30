package auditexport

import (
	"io"
	"os"
)

// segmentFile is an open segment. The spool writes it under its mutex; the
// sender and recovery read it with ReadAt, which sees writes made through a
// mapping too (both go through the page cache).
type segmentFile interface {
	io.ReaderAt
	// writeAt writes all of p at off. After an error the spool abandons
	// the segment for a new one.
	writeAt(p []byte, off int64) error
	// Sync forces what was written to stable storage.
	Sync() error
	// finish syncs the segment, cuts it to size (the end of its last entry)
	// and releases what writing it needed. Later writes still work, through
	// the slower write path.
	finish(size int64) error
	Name() string
	Close() error
}

// fileSegment writes each entry with one pwrite. It is the write path where
// segments cannot be preallocated and mapped, and it holds the segments
// recovered at start, which are only read.
type fileSegment struct{ *os.File }

func (f fileSegment) writeAt(p []byte, off int64) error {
	if _, err := f.WriteAt(p, off); err != nil {
		// Cut off what part of the entry was written, so that the next
		// entry follows an intact one; a reader would skip it anyway.
		_ = f.Truncate(off)
		return err
	}
	return nil
}

// finish only syncs: the file grew by exactly what was written.
func (f fileSegment) finish(int64) error { return f.Sync() }
