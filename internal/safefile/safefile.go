package safefile

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrNotRegular and ErrTooLarge are what Open and Read refuse; errors.Is finds them
// in an *Error.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("too large")
)

// Error is a refusal that names the file and, for a size, the limit.
type Error struct {
	Path string
	Err  error // ErrNotRegular or ErrTooLarge
	Max  int64
	Is   string // what the file is instead, for ErrNotRegular: "a FIFO", "a directory"
}

func (e *Error) Error() string {
	if e.Err == ErrTooLarge {
		return fmt.Sprintf("%s is larger than %s", e.Path, Size(e.Max))
	}
	if e.Is == "not a regular file" || e.Is == "" {
		return e.Path + " is not a regular file"
	}
	return e.Path + " is " + e.Is + ", not a regular file"
}

// what names a file type for an error.
func what(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file"
}

// NotRegular is the refusal of a file of mode m.
func NotRegular(path string, m os.FileMode) error {
	return &Error{Path: path, Err: ErrNotRegular, Is: what(m)}
}

func (e *Error) Unwrap() error { return e.Err }

// Size words a byte count: 4 MiB, 4.7 GiB, 512 KiB, 100 bytes.
func Size(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift {
			if n%(1<<u.shift) == 0 {
				return fmt.Sprintf("%d %s", n>>u.shift, u.name)
			}
			return fmt.Sprintf("%.1f %s", float64(n)/float64(int64(1)<<u.shift), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// Open opens a regular file for reading. It never opens anything else: the name is
// checked, opened with O_NONBLOCK (so a FIFO swapped in between cannot block) and
// checked again through the open descriptor.
func Open(path string) (*os.File, error) {
	if fi, err := os.Stat(path); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // the user asked to read it; "stat" is an implementation detail
		}
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, NotRegular(path, fi.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if !fi.Mode().IsRegular() {
		f.Close()
		return nil, NotRegular(path, fi.Mode())
	}
	return f, nil
}

// Read reads a regular file of at most max bytes.
func Read(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		return nil, &Error{Path: path, Err: ErrTooLarge, Max: max}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &Error{Path: path, Err: ErrTooLarge, Max: max}
	}
	return b, nil
}

// maxPEM bounds a certificate or key file: real ones are a few KiB.
const maxPEM = 1 << 20

// KeyPair is tls.LoadX509KeyPair over regular files of at most 1 MiB each.
func KeyPair(certFile, keyFile string) (tls.Certificate, error) {
	c, err := Read(certFile, maxPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	k, err := Read(keyFile, maxPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(c, k)
}

// PEM reads a certificate bundle (a CA file) of at most 1 MiB.
func PEM(path string) ([]byte, error) { return Read(path, maxPEM) }

// Reader stops reading when ctx is done: a long read of a big file (or a slow pipe)
// must not outlast --timeout or an interrupt.
func Reader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
