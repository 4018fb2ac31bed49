// Package dockaudit is the module root; the command is in cmd/dockaudit. This package
// holds only repository-level tests (README and CI agree).
package dockaudit
