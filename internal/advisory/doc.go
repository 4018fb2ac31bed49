// Package advisory loads vulnerability advisories from their public formats (OSV,
// the Debian security tracker's JSON and DSA/DLA lists, Alpine's secdb), keeps them
// in a local database, and matches inventoried packages against them.
//
// It imports facts, version and safefile only: no collector, no check, no report. Network access is
// confined to update.go.
package advisory
