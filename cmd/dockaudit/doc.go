// Command dockaudit audits a Docker installation: the daemon and its host against the
// CIS Docker Benchmark, and every container and image it runs.
//
// It holds no audit logic: flags become options for internal/app, and errors become exit
// codes.
package main
