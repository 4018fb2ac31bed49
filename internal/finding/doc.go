// Package finding defines the vocabulary every part of dockaudit shares: Rule, Finding,
// Status, Severity and Target. It is the JSON contract of DESIGN.md.
//
// It imports the standard library only, so that facts, checks, collectors and writers can
// all depend on it without pulling anything else in.
package finding
