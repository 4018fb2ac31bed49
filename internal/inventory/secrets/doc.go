// Package secrets finds credentials in file contents: private keys, cloud and
// forge tokens, registry credentials in Docker, npm and PyPI configuration, and
// secret-looking entries of .env files. A match carries the kind, the line and a short
// hash of the secret; the secret itself never leaves this package.
//
// It imports only the standard library: no collector, no check.
package secrets
