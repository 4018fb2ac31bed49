package facts

import (
	"crypto/sha256"
	"encoding/hex"
)

// Confinement is what the kernel says about a running container's init process, read
// from /proc/PID on the daemon's host: the effective state, as opposed to the options
// the container was created with.
type Confinement struct {
	PID int `json:"pid"`
	// Seccomp is the mode: 0 none, 1 strict, 2 filter; Filters how many filters are
	// stacked (Seccomp_filters, Linux 5.9 and later; -1 when the kernel does not say).
	Seccomp    int  `json:"seccomp"`
	Filters    int  `json:"seccompFilters"`
	NoNewPrivs bool `json:"noNewPrivs"`
	// CapEff and CapBnd are the effective and bounding capability sets, as the hex
	// masks /proc/PID/status prints.
	CapEff string `json:"capEff"`
	CapBnd string `json:"capBnd"`
	// UIDMap is /proc/PID/uid_map, lines joined with "; " and spaces squeezed
	// ("0 0 4294967295" is the host's user namespace).
	UIDMap string `json:"uidMap"`
	// UIDMapError says why uid_map could not be read.
	UIDMapError string `json:"uidMapError,omitempty"`
	// LSMLabel is /proc/PID/attr/current, "" when no LSM provides it.
	LSMLabel string `json:"lsmLabel,omitempty"`
	// Error says why the state could not be read (the process exited, or it is not
	// the container's: its cgroup does not name the container).
	Error string `json:"error,omitempty"`
}

// Profile is a seccomp profile to lint: a file named on the command line, one
// attached to containers (--security-opt seccomp=FILE, whose JSON the daemon keeps),
// or the daemon's own default (--seccomp-profile).
type Profile struct {
	// Name is the file's path, or "sha256:<12 hex>" for a profile known only by its
	// content.
	Name string `json:"name"`
	// Digest is the sha256 of Content.
	Digest string `json:"digest"`
	// Source is "file", "container" or "daemon".
	Source string `json:"source"`
	// Containers are the names of the containers that use it.
	Containers []string `json:"containers,omitempty"`
	Content    string   `json:"content"`
	Error      string   `json:"error,omitempty"`
}

// ProfileDigest names a profile known only by its content (a container's custom
// profile, whose JSON the daemon keeps): "sha256:" and the first 12 hex digits.
func ProfileDigest(content string) string {
	sum := sha256.Sum256([]byte(content))
	return "sha256:" + hex.EncodeToString(sum[:6])
}
