module github.com/dockaudit/dockaudit

go 1.26.8

require golang.org/x/sys v0.33.0

require github.com/google/go-cmp v0.7.0 // indirect
