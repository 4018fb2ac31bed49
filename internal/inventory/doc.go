// Package inventory parses package databases and metadata found in images: os-release,
// dpkg status (and distroless status.d), apk installed, Python dist-info/egg-info,
// npm package.json, Java archives and Go build information. rpmdb reads the RPM
// SQLite database; secrets finds credentials in file contents. Every parser is a pure
// function of untrusted bytes, fuzzed, and imports no collector.
package inventory
