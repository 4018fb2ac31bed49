// Package checks is the single explicit list of every check dockaudit runs (All). There
// is no init() registration anywhere.
package checks
