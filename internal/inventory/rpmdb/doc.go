// Package rpmdb reads the RPM database of RHEL 9, Fedora and their kin: an SQLite file
// (rpmdb.sqlite) whose Packages table holds one RPM header blob per package. It reads
// the SQLite file format directly (only table b-trees, read-only, bounded), so no
// SQLite library is needed, and decodes the headers. Input is untrusted.
//
// It imports only the standard library: no collector, no check.
package rpmdb
