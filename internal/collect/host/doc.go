// Package host collects the host side of the host audit: it ties the daemon address to a
// dockerd process, reads that daemon's configuration the way dockerd does, and stats the
// files, audit rules, groups and security modules the CIS checks need, each once.
package host
