package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o644)
	if b, err := Read(small, 5); err != nil || string(b) != "hello" {
		t.Errorf("%q %v", b, err)
	}
	if _, err := Read(small, 4); !errors.Is(err, ErrTooLarge) || err.Error() != small+" is larger than 4 bytes" {
		t.Errorf("too large: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	unix.Mkfifo(fifo, 0o600)
	done := make(chan error)
	go func() { _, err := Read(fifo, 1<<20); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || err.Error() != fifo+" is a FIFO, not a regular file" {
			t.Errorf("fifo: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a FIFO blocked the read")
	}
	if _, err := Read("/dev/zero", 1<<20); !errors.Is(err, ErrNotRegular) || err.Error() != "/dev/zero is a character device, not a regular file" {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := Read(dir, 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Errorf("directory: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing"), 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	for n, want := range map[int64]string{4 << 20: "4 MiB", 512 << 10: "512 KiB", 3 << 30: "3 GiB", 1000: "1000 bytes", 5033164500: "4.7 GiB", 1536: "1.5 KiB"} {
		if Size(n) != want {
			t.Errorf("Size(%d) = %s", n, Size(n))
		}
	}
}
