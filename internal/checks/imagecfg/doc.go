// Package imagecfg checks an image's configuration and contents as dockaudit image
// reads them: the user it runs as, setuid files, accounts, sudo, leftover package
// caches, sensitive volumes, the tag, layer anomalies and secrets in files. CIS
// section 4 items decided from the configuration alone live in checks/cis.
//
// Like every check package it does no I/O and must not import a collector, net/http or a
// Docker client (checks/boundary_test.go enforces it).
package imagecfg
