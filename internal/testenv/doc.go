// Package testenv decides, for tests that need something outside the Go toolchain (a
// Docker daemon, a validator), whether its absence is a skip or a failure: on a
// developer's machine a missing dependency skips, under CI (DOCKAUDIT_CI=1, set by
// .ci/run after installing everything) it fails, so a broken install cannot pass green.
//
// It is for tests only and must not be imported by the binary.
package testenv
