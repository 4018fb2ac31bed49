// Package facts holds the typed snapshot of everything an audit looked at: the daemon
// as the Engine API describes it, the daemon process and its host, containers, images,
// networks and the swarm. Facts are plain JSON-serialisable values, written by
// --save-facts and read by --from-facts, which is also how checks are unit-tested.
//
// It owns no I/O. It imports the standard library only.
package facts
