package auditexport

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
)

// errMappingFault: a copy into a segment's mapping faulted (the file was
// cut short under it, or the disk failed to supply a page).
var errMappingFault = errors.New("memory fault writing the mapped segment")

// mapSegments turns preallocated, memory-mapped segments on (the default);
// tests turn it off to run the write path on Linux.
var mapSegments atomic.Bool

func init() { mapSegments.Store(true) }

// mappedSegment is a segment preallocated at its full size (fallocate: its
// blocks are reserved, so a write into it cannot run out of space) and
// mapped shared: an append is a copy into the page cache, with no system
// call. The kernel owns the dirty pages, so a record copied in survives a
// crash of the process; Sync makes it survive a crash of the machine.
type mappedSegment struct {
	*os.File
	data []byte // the mapping; nil once finished
}

// preallocate makes f, which holds a segment header only, a mapped segment
// of size bytes. Where the filesystem cannot preallocate or the mapping
// fails it falls back to the write path.
func preallocate(f *os.File, size int64) (segmentFile, error) {
	if !mapSegments.Load() {
		return fileSegment{f}, nil
	}
	data, err := mapFile(f, size)
	if err != nil {
		// An unsupported filesystem, a disk too full for a whole segment,
		// no address space: entries are written as before. Whatever
		// fallocate reserved is given back.
		if terr := f.Truncate(int64(len(segmentHeader))); terr != nil {
			return nil, fmt.Errorf("%w (and cutting the segment back failed: %w)", err, terr)
		}
		return fileSegment{f}, nil
	}
	return &mappedSegment{File: f, data: data}, nil
}

func mapFile(f *os.File, size int64) ([]byte, error) {
	if int64(int(size)) != size {
		return nil, fmt.Errorf("segment size %d too large to map", size)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var data []byte
	var serr error
	err = rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fallocate(int(fd), 0, 0, size)
			if serr != syscall.EINTR {
				break
			}
		}
		if serr != nil {
			serr = fmt.Errorf("fallocate: %w", serr)
			return
		}
		data, serr = syscall.Mmap(int(fd), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
		if serr != nil {
			serr = fmt.Errorf("mmap: %w", serr)
		}
	})
	return data, errors.Join(err, serr)
}

// writeAt copies p into the mapping. A fault (SIGBUS: the file was cut
// short under the mapping, or a page could not be read) becomes an error
// instead of crashing the service. Past the mapping (a record larger than
// the rest of the segment, or after finish) it writes as the write path does.
func (m *mappedSegment) writeAt(p []byte, off int64) (err error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.data)) {
		return fileSegment{m.File}.writeAt(p, off)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			fault, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r) // not a fault: a bug, not the disk
			}
			err = fmt.Errorf("%w %s at offset %d (address %#x)", errMappingFault, m.Name(), off, fault.Addr())
		}
	}()
	copy(m.data[off:], p)
	return nil
}

// Sync forces the segment's data to stable storage: fdatasync writes the
// dirty pages of the mapping as it does those of write(2). It works on the
// file, so it is safe while finish unmaps.
func (m *mappedSegment) Sync() error {
	rc, err := m.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				break
			}
		}
	})
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: m.Name(), Err: serr}
	}
	return err
}

// finish syncs, unmaps and gives back the preallocated space past size.
func (m *mappedSegment) finish(size int64) error {
	if err := m.Sync(); err != nil {
		return err
	}
	if err := m.unmap(); err != nil {
		return err
	}
	st, err := m.Stat()
	if err != nil {
		return err
	}
	if st.Size() > size { // never grow a file cut short under us
		return m.Truncate(size)
	}
	return nil
}

func (m *mappedSegment) unmap() error {
	if m.data == nil {
		return nil
	}
	err := syscall.Munmap(m.data)
	m.data = nil
	if err != nil {
		return fmt.Errorf("munmap %s: %w", m.Name(), err)
	}
	return nil
}

// Close unmaps (when finish did not) and closes the file.
func (m *mappedSegment) Close() error {
	return errors.Join(m.unmap(), m.File.Close())
}
