// Package app wires each command: it runs the collectors, the selected checks and the
// writer for the options main parsed. Exit codes are decided by main, not here.
package app
