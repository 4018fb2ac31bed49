// Package textsafe makes text that came from outside (a registry's error body, a
// daemon's answer, a container's command line, a file name in an image) safe to show on
// a terminal: control characters, C1 codes and the bidirectional overrides are shown as
// escapes, so such text can neither drive the terminal nor reorder what is displayed.
//
// Every path to a terminal goes through it: the table writer for the report, and a
// Writer around stderr for errors and progress. It imports the standard library only.
package textsafe
