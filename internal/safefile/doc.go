// Package safefile reads files a user or a host names (reports' inputs, ignore and VEX
// files, certificates, facts, profiles, advisory files) without trusting what they
// are: only regular files are opened, never blocking on a FIFO or a device, and reads
// are bounded. It imports the standard library only, so every layer may use it.
package safefile
