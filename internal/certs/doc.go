// Package certs makes the certificate set Docker's "Protect the Docker daemon socket"
// prescribes: a CA, a server certificate for the daemon (serverAuth, with every name
// and address clients dial) and a client certificate (clientAuth), with modern keys
// and bounded lifetimes.
//
// It imports only the standard library: no collector, no check.
package certs
