// Package daemon finds the dockerd process behind a socket (peer credentials, or the
// owner of the listening socket under systemd socket activation) and reads it through
// procfs: command line, listeners, mounts. It also parses dockerd flags and daemon.json
// into one effective configuration.
package daemon
