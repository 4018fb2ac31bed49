// Package seccomp reads Docker seccomp profiles, works out what a profile lets a
// container do (for an architecture and a set of capabilities), lints profiles for
// dangerous allowances, compares them, and writes allow-list profiles. It does no
// I/O beyond the embedded default profiles.
//
// It imports caps only (no collector, no check), so checks may use it.
package seccomp
