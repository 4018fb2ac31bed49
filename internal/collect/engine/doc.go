// Package engine reads the Docker daemon through the Engine API: a small read-only HTTP
// client (unix socket or TCP with the docker CLI's TLS environment) and a collector that
// issues one inspect per container (plus top when it runs) and per image, concurrently.
//
// It decodes only the fields the checks use, into its own wire types, so a daemon of any
// API version since 1.24 can be read. The audit reads only GET; Runner, which creates,
// starts and removes containers, is for dockaudit seccomp record alone.
package engine
