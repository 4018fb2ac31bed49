// Package imagetest builds small, reproducible container images for tests: layers from
// a list of entries, images with a fixed creation time, docker save archives and OCI
// layouts. It is for tests only and must not be imported by the binary.
package imagetest
