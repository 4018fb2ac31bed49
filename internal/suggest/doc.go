// Package suggest finds what a user probably meant: the closest names to a mistyped
// one, by edit distance.
//
// It imports the standard library only; callers decide where the suggestion goes.
package suggest
