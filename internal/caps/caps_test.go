package caps

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEffective(t *testing.T) {
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
	}{
		{"defaults", nil, nil, false, Default},
		{"add and drop, any spelling", []string{"cap_net_admin"}, []string{"NET_RAW", "CAP_MKNOD"}, false,
			[]string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_ADMIN", "NET_BIND_SERVICE",
				"SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}},
		{"drop all, add one", []string{"NET_BIND_SERVICE"}, []string{"ALL"}, false, []string{"NET_BIND_SERVICE"}},
		{"drop all", nil, []string{"all"}, false, nil},
		{"privileged", nil, []string{"ALL"}, true, All},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, Effective(tt.add, tt.drop, tt.privileged)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	got := Effective([]string{"ALL"}, []string{"SYS_ADMIN", "CAP_NET_ADMIN"}, false)
	if len(got) != len(All)-2 || slices.Contains(got, "SYS_ADMIN") || slices.Contains(got, "NET_ADMIN") {
		t.Errorf("ALL minus two = %v", got)
	}
}

func TestDecode(t *testing.T) {
	// Docker's default set as a container's /proc/1/status shows it.
	got, err := Decode("00000000a80425fb")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Default, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	got, _ = Decode("000001ffffffffff")
	if d := cmp.Diff(All, got); d != "" {
		t.Errorf("full mask (-want +got):\n%s", d)
	}
	got, _ = Decode("0000020000200000")
	if d := cmp.Diff([]string{"CAP_41", "SYS_ADMIN"}, got); d != "" {
		t.Errorf("unknown bit (-want +got):\n%s", d)
	}
	if got, _ := Decode("0000000000000000"); got != nil {
		t.Errorf("empty mask = %v", got)
	}
	if _, err := Decode("zz"); err == nil || err.Error() != `capability mask "zz": not hexadecimal` {
		t.Errorf("err = %v", err)
	}
	if len(ByBit) != 41 || ByBit[21] != "SYS_ADMIN" || ByBit[40] != "CHECKPOINT_RESTORE" {
		t.Error("bit table out of order")
	}
}
