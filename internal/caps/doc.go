// Package caps names Linux capabilities and works out a container's set the way
// Docker does: its default set, --cap-add and --cap-drop, and the masks procfs shows.
//
// It imports nothing of the project: checks, collectors and the seccomp package share it.
package caps
