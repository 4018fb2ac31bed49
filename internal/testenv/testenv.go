// Package testenv decides, for tests that need something outside the Go toolchain (a
// Docker daemon, a validator), whether its absence is a skip or a failure: on a
// developer's machine a missing dependency skips, under CI (DOCKAUDIT_CI=1, set by
// .ci/run after installing everything) it fails, so a broken install cannot pass green.
package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run under .ci/run.
func CI() bool { return os.Getenv("DOCKAUDIT_CI") == "1" }

// Missing skips the test, or fails it under CI.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("required under DOCKAUDIT_CI=1: "+format, args...)
	}
	t.Skipf(format, args...)
}
