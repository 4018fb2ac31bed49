// Package hostfs reads the daemon host's files under a root directory (--host-root),
// resolving symlinks inside that root so an audit run in a container with the host
// mounted at /host sees the host as the host sees itself. Reads are bounded in size.
package hostfs
