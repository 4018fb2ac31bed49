// Package rootpath resolves paths inside a root (a host root such as /host, an image's
// files) the way the kernel would inside a chroot: symbolic links are followed, an
// absolute link target starts again at the root and ".." stops at it, so no path and
// no link can lead outside. Both the host collector and the image reader use it, so
// this security-sensitive walk exists once.
//
// It imports the standard library only and does no I/O itself: the caller's Lookup does.
package rootpath
