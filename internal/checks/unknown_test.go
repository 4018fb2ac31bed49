package checks

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// verdicts are the statuses that claim something was looked at.
func verdict(s finding.Status) bool {
	return s == finding.Pass || s == finding.Fail || s == finding.Warn
}

// TestNoVerdictWithoutFacts runs every rule against targets nothing is known about: a
// container with only an ID and a name, an image with only an ID, a daemon whose
// /info was not read, no host, and an endpoint, registry and profile never probed or
// read. No rule may pass, fail or warn there, or fail internally: what was not looked
// at is a skip (or manual) with its reason.
func TestNoVerdictWithoutFacts(t *testing.T) {
	snap := &facts.Snapshot{
		SchemaVersion: facts.SchemaVersion,
		HostAccess:    facts.HostAccess{Reason: "not read"},
		Containers:    []facts.Container{{ID: "c0ffee", Name: "empty"}},
		Images:        []facts.Image{{ID: "sha256:feed"}},
		Endpoints:     []facts.Endpoint{{Address: "tcp://192.0.2.1:2376"}},
		Registries:    []facts.Registry{{URL: "https://registry.example"}},
		Profiles:      []facts.Profile{{Name: "empty.json"}},
	}
	var bad []string
	got := map[string]string{}
	for _, f := range check.Run(Every(), snap, check.Options{}) {
		got[f.Rule+" "+string(f.Target.Kind)] = f.Status.String() + ": " + f.Message
		if verdict(f.Status) || (f.Status == finding.Error && strings.Contains(f.Message, "failed internally")) {
			bad = append(bad, fmt.Sprintf("%s %s %s: %s", f.Rule, f.Status, f.Target.Kind, f.Message))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%d verdicts without facts:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	// Each says what it lacked.
	for rule, want := range map[string]string{
		"CIS-5.4 container":           "skip: not known: the facts hold no hostConfig for this container",
		"CIS-5.6 container":           "skip: not known: the facts hold no mounts for this container",
		"CIS-5.7 container":           "skip: not known: the facts hold no state for this container",
		"CONFINE-CAPS container":      "skip: not known: the facts hold no hostConfig for this container",
		"CIS-2.12 daemon":             "skip: not known: the daemon's /info and /version were not read",
		"CIS-2.17 daemon":             "skip: not known: the daemon's /info and /version were not read",
		"CIS-4.5 daemon":              "skip: not known: the auditing client's environment was not recorded",
		"CIS-4.6 image":               "skip: not known: the facts hold no imageConfig for this image",
		"CIS-4.9 image":               "skip: not known: the facts hold no history for this image",
		"IMG-SETUID image":            "skip: not known: the image's files were not read (dockaudit image reads them)",
		"IMG-LATEST-TAG image":        "skip: not known: how the image was named is not known",
		"TLS-ENABLED endpoint":        "skip: the address was not probed",
		"REG-ANONYMOUS-PULL registry": "skip: /v2/ was not probed",
		"SECCOMP-SYNTAX profile":      "skip: the profile's content was not read",
	} {
		if got[rule] != want {
			t.Errorf("%s: %q, want %q", rule, got[rule], want)
		}
	}
}

// FuzzContainerFacts: whatever a facts file says of a container, no rule fails
// internally (a panic on a value the collector would never write).
func FuzzContainerFacts(f *testing.F) {
	f.Add([]byte(`{"id":"c","name":"x","state":{"status":"running","pid":1},"hostConfig":{"networkMode":"container:c","pidMode":"container:x"},"mounts":[{"type":"volume","hostPathUnknown":"?"}],"ports":[],"networks":[]}`))
	f.Add([]byte(`{"id":"c","hostConfig":{"securityOpt":["seccomp={}","seccomp=unconfined","apparmor"]},"confinement":{"pid":1,"capEff":"zz"}}`))
	f.Add([]byte(`{"id":"c","state":{"status":"running"},"processes":{"titles":["CMD"],"processes":[[]]}}`))
	checks := All()
	f.Fuzz(func(t *testing.T, b []byte) {
		var c facts.Container
		if json.Unmarshal(b, &c) != nil || c.Error != "" {
			return
		}
		snap := &facts.Snapshot{SchemaVersion: facts.SchemaVersion, Containers: []facts.Container{c}, Engine: facts.Engine{Info: true, ServerVersion: "20.10.24", SecurityOptions: []string{"name=seccomp,profile=default"}}}
		for _, fd := range check.Run(checks, snap, check.Options{}) {
			if strings.Contains(fd.Message, "failed internally") {
				t.Fatalf("%s: %s", fd.Rule, fd.Message)
			}
		}
	})
}
