package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run under .ci/run.
func CI() bool { return os.Getenv("DOCKAUDIT_CI") == "1" }

// Optional skips the test for data that may be absent even under CI: the real
// advisory samples beside the project (../shared/data/vuln) are read from there and
// never copied into the repository, so a clone on its own does not have them.
func Optional(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Skipf(format, args...)
}

// Missing skips the test, or fails it under CI.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("required under DOCKAUDIT_CI=1: "+format, args...)
	}
	t.Skipf(format, args...)
}
