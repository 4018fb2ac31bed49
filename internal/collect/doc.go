// Package collect groups the collectors: every byte dockaudit reads from the outside
// world is read by a package under collect/ and turned into facts.
package collect
