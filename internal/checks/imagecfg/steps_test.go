package imagecfg

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// TestStepRules: downloads piped into a shell and world-writable modes are found in a
// built image's history (by step) and in a Dockerfile's (by line), and nothing else is.
func TestStepRules(t *testing.T) {
	run := func(hist []facts.History) []string {
		t.Helper()
		sel, err := check.Selection{Include: []string{"IMG-PIPE-SHELL", "IMG-WORLD-WRITABLE", "IMG-RUN-SUDO"}}.Apply(Checks())
		if err != nil {
			t.Fatal(err)
		}
		im := facts.Image{Tags: []string{"app:1"}, Config: &facts.ImageConfig{}, History: hist}
		var out []string
		for _, f := range check.Run(sel, &facts.Snapshot{Images: []facts.Image{im}}, check.Options{}) {
			s := f.Rule + " " + f.Status.String() + ": " + f.Message
			if f.Location != nil {
				s += " @" + f.Location.Path
			}
			out = append(out, s)
		}
		return out
	}
	built := []facts.History{
		{CreatedBy: "/bin/sh -c curl -fsSL https://get.example.com | sh"},
		{CreatedBy: "/bin/sh -c wget -qO- https://x.example/i.sh | sudo -E bash -s -- --yes"},
		{CreatedBy: "/bin/sh -c chmod -R 777 /srv && chmod a+rwx /tmp/x"},
		{CreatedBy: "/bin/sh -c curl -fsSLo i.sh https://x && sha256sum -c sums && sh i.sh"},
		{CreatedBy: "/bin/sh -c chmod 755 /app && chmod u+w /data"},
		{CreatedBy: "/bin/sh -c apt-get install -y sudo && echo pseudo sudoers"},
		{CreatedBy: "|1 V=2 /bin/sh -c sudo apt-get update"},
	}
	want := []string{
		"IMG-PIPE-SHELL warn: history step 1 pipes a curl download into sh",
		"IMG-PIPE-SHELL warn: history step 2 pipes a wget download into bash",
		"IMG-WORLD-WRITABLE warn: history step 3 makes files writable by everyone (chmod -R 777)",
		"IMG-RUN-SUDO warn: history step 2 runs sudo",
		"IMG-RUN-SUDO warn: history step 7 runs sudo",
	}
	if d := cmp.Diff(want, run(built)); d != "" {
		t.Errorf("built (-want +got):\n%s", d)
	}
	dockerfile := []facts.History{{CreatedBy: "FROM debian:12", File: "Dockerfile", Line: 1, Column: 1}, {CreatedBy: "RUN curl https://x | bash", File: "Dockerfile", Line: 4, Column: 3}, {CreatedBy: "RUN sudo chown app /srv", File: "Dockerfile", Line: 5, Column: 1}}
	want = []string{
		"IMG-PIPE-SHELL warn: line 4 pipes a curl download into bash @Dockerfile",
		"IMG-WORLD-WRITABLE pass: none of its 3 build steps makes files writable by everyone",
		"IMG-RUN-SUDO warn: line 5 runs sudo @Dockerfile",
	}
	if d := cmp.Diff(want, run(dockerfile)); d != "" {
		t.Errorf("Dockerfile (-want +got):\n%s", d)
	}
}
