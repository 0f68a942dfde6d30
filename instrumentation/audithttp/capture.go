package audithttp

import "io"

// capture keeps the first limit bytes written to it and counts them all.
// Its memory is bounded by limit whatever the body's size.
type capture struct {
	on        bool  // keep bytes; otherwise only count
	limit     int   // < 0: no limit
	size      int64 // the body's declared length, when known (> 0)
	total     int64 // every byte seen
	buf       []byte
	truncated bool
}

func (c *capture) write(p []byte) { captureWrite(c, p) }

func (c *capture) writeString(s string) { captureWrite(c, s) }

func captureWrite[T string | []byte](c *capture, p T) {
	c.total += int64(len(p))
	if !c.on || len(p) == 0 {
		return
	}
	if c.limit >= 0 {
		room := c.limit - len(c.buf)
		if room <= 0 {
			c.truncated = true
			return
		}
		if len(p) > room {
			p = p[:room]
			c.truncated = true
		}
		if c.buf == nil {
			// Room for the writes that usually follow: all of a body of
			// known length, or a little for small writes. A first write
			// that is all there is to keep is appended to nil below:
			// append allocates without zeroing the bytes it copies over.
			if n := min(int64(c.limit), c.size); n > int64(len(p)) {
				c.buf = make([]byte, 0, n)
			} else if len(p) < 512 {
				c.buf = make([]byte, 0, min(c.limit, 512))
			}
		}
	}
	c.buf = append(c.buf, p...)
}

func (c *capture) Write(p []byte) (int, error) {
	c.write(p)
	return len(p), nil
}

// requestBody tees the request body into a capture as the handler reads
// it: nothing is read ahead or drained, so the handler sees exactly the
// bytes the client sent, when it asks for them.
type requestBody struct {
	rc  io.ReadCloser
	cap *capture
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.cap.write(p[:n])
	}
	return n, err
}

func (b *requestBody) Close() error { return b.rc.Close() }
