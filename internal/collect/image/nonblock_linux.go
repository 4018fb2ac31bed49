package image

import "syscall"

// nonblock opens a file that may have become a FIFO without blocking.
const nonblock = syscall.O_NONBLOCK
