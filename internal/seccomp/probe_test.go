package seccomp

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// TestProbeELF runs the probe on this machine: a call that succeeds exits 0, one that
// fails exits with its errno.
func TestProbeELF(t *testing.T) {
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		testenv.Missing(t, "the probe is an x86_64 Linux program")
	}
	dir := t.TempDir()
	exitOf := func(call, exitCall string) int {
		t.Helper()
		b, err := ProbeELF(call, exitCall)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 162 {
			t.Errorf("probe is %d bytes", len(b))
		}
		p := filepath.Join(dir, call+"-"+exitCall)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		err = exec.Command(p).Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee) && ee.Exited():
			return ee.ExitCode()
		}
		t.Fatalf("%s: %v", call, err)
		return -1
	}
	if got := exitOf("getpgrp", "exit_group"); got != 0 {
		t.Errorf("getpgrp: exit %d", got)
	}
	if got := exitOf("sched_yield", "exit"); got != 0 {
		t.Errorf("sched_yield via exit: exit %d", got)
	}
	// fchdir(0): stdin is /dev/null, not a directory, so ENOTDIR.
	if got := exitOf("fchdir", "exit_group"); got != 20 {
		t.Errorf("fchdir(0): exit %d, want ENOTDIR (20)", got)
	}
	if _, err := ProbeELF("frobnicate", "exit_group"); err == nil || err.Error() != `"frobnicate" is not an x86_64 syscall` {
		t.Errorf("unknown syscall: %v", err)
	}
	if _, err := ProbeELF("getpid", "getpid"); err == nil || err.Error() != `"getpid" is not exit or exit_group` {
		t.Errorf("bad exit call: %v", err)
	}
}
