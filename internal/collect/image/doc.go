// Package image reads container images safely. Layers are streamed once, in order,
// through a bounded tar reader; whiteouts and opaque directories are applied; only the
// entries the inventories and checks ask for are indexed (plus every link, to resolve
// paths), so memory does not grow with the number of files. Nothing is extracted to
// the host, and links resolve inside the image root only.
package image
