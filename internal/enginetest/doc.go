// Package enginetest serves a recorded Docker Engine API on a unix socket, for tests
// and benchmarks that run dockaudit against a daemon that is not there: thousands of
// containers cloned from a few recorded ones, or answers a hostile daemon would give.
// It is test support: only tests and benchmarks import it.
package enginetest
