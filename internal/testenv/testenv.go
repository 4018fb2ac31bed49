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
