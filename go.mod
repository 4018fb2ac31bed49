module github.com/dockaudit/dockaudit

go 1.26.8

require golang.org/x/sys v0.33.0
