package daemon

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want map[string]facts.Setting
	}{
		{
			name: "debian default",
			args: []string{"-H", "fd://", "--containerd=/run/containerd/containerd.sock"},
			want: map[string]facts.Setting{
				"hosts":      {Values: []string{"fd://"}, Source: "flag --host=fd://"},
				"containerd": {Values: []string{"/run/containerd/containerd.sock"}, Source: "flag --containerd=/run/containerd/containerd.sock"},
			},
		},
		{
			name: "booleans with and without values, repeated list, short forms",
			args: []string{"--icc=false", "--tlsverify", "-Htcp://0.0.0.0:2376", "-H", "unix:///var/run/docker.sock", "-D", "--insecure-registry", "10.0.0.0/8", "--config-file", "/srv/d.json"},
			want: map[string]facts.Setting{
				"icc":                 {Values: []string{"false"}, Source: "flag --icc=false"},
				"tlsverify":           {Values: []string{"true"}, Source: "flag --tlsverify"},
				"hosts":               {Values: []string{"tcp://0.0.0.0:2376", "unix:///var/run/docker.sock"}, Source: "flags --host"},
				"debug":               {Values: []string{"true"}, Source: "flag --debug"},
				"insecure-registries": {Values: []string{"10.0.0.0/8"}, Source: "flag --insecure-registry=10.0.0.0/8"},
				"config-file":         {Values: []string{"/srv/d.json"}, Source: "flag --config-file=/srv/d.json"},
			},
		},
		{
			name: "a bool flag never swallows the next argument",
			args: []string{"--iptables", "--userland-proxy=false"},
			want: map[string]facts.Setting{
				"iptables":       {Values: []string{"true"}, Source: "flag --iptables"},
				"userland-proxy": {Values: []string{"false"}, Source: "flag --userland-proxy=false"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseArgs(%q) (-want +got):\n%s", tt.args, d)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--data-root"}, // value missing
		{"-Z"},          // unknown short flag
		{"--icc=maybe"}, // not a boolean
		{"--=x"},        // no name
	} {
		if _, err := ParseArgs(args); err == nil {
			t.Errorf("ParseArgs(%q): no error", args)
		}
	}
}

func TestParseConfigFile(t *testing.T) {
	got, err := ParseConfigFile([]byte(`{
		"icc": false, "log-level": "debug", "hosts": ["tcp://127.0.0.1:2376"],
		"default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
		"max-concurrent-downloads": 3, "labels": []
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]facts.Setting{
		"icc":                      {Values: []string{"false"}, Source: "daemon.json"},
		"log-level":                {Values: []string{"debug"}, Source: "daemon.json"},
		"hosts":                    {Values: []string{"tcp://127.0.0.1:2376"}, Source: "daemon.json"},
		"default-ulimits":          {Values: []string{`nofile={"Hard":64000,"Name":"nofile","Soft":64000}`}, Source: "daemon.json"},
		"max-concurrent-downloads": {Values: []string{"3"}, Source: "daemon.json"},
		"labels":                   {Values: []string{}, Source: "daemon.json"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, bad := range []string{``, `[]`, `null`, `{"icc": }`, `{"a":1} trailing`, `{"a":1}{}`} {
		if _, err := ParseConfigFile([]byte(bad)); err == nil {
			t.Errorf("ParseConfigFile(%q): no error", bad)
		}
	}
}

func TestMergeFlagsWin(t *testing.T) {
	flags := map[string]facts.Setting{"icc": {Values: []string{"false"}, Source: "flag --icc=false"}}
	file := map[string]facts.Setting{"icc": {Values: []string{"true"}, Source: "daemon.json"}, "iptables": {Values: []string{"false"}, Source: "daemon.json"}}
	got := Merge(flags, file)
	if got["icc"].Value() != "false" || got["iptables"].Value() != "false" {
		t.Errorf("Merge = %v", got)
	}
}
