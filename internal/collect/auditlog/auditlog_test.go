package auditlog

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// msg builds one netlink message as the audit subsystem sends it: a 16-byte header
// whose length counts the unpadded text.
func msg(typ uint16, text string) []byte {
	b := make([]byte, 16, 16+len(text))
	binary.NativeEndian.PutUint32(b[0:4], uint32(16+len(text)))
	binary.NativeEndian.PutUint16(b[4:6], typ)
	return append(b, text...)
}

// Records as a 6.x kernel logs them for a container under SCMP_ACT_LOG.
const (
	exitGroup = `audit(1764184800.123:4711): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=unconfined pid=25314 comm="sh" exe="/bin/busybox" sig=0 arch=c000003e syscall=231 compat=0 ip=0x4a1b2c code=0x7ffc0000`
	// A comm with a space is hex-encoded; a process cannot forge a field with it.
	hexComm = `audit(1764184800.124:4712): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=25315 comm=782073797363616C6C3D31 exe="/bin/busybox" sig=0 arch=c000003e syscall=1 compat=0 ip=0x1 code=0x7ffc0000`
	i386    = `audit(1764184800.125:4713): auid=0 uid=0 gid=0 ses=1 pid=25316 comm="a.out" exe="/a.out" sig=0 arch=40000003 syscall=252 compat=1 ip=0x1 code=0x7ffc0000`
	x32     = `audit(1764184800.126:4714): auid=0 uid=0 gid=0 ses=1 pid=25317 comm="x" exe="/x" sig=0 arch=c000003e syscall=1073741825 compat=0 ip=0x1 code=0x7ffc0000`
	refused = `audit(1764184800.127:4715): auid=0 uid=0 gid=0 ses=1 pid=25318 comm="x" exe="/x" sig=0 arch=c000003e syscall=165 compat=0 ip=0x1 code=0x50001`
)

func TestParse(t *testing.T) {
	// Two unpadded records and a record of another type in one datagram.
	var dgram []byte
	for _, m := range [][]byte{msg(typeSeccomp, exitGroup), msg(1300, "audit(1.1:1): arch=c000003e syscall=59 success=yes"), msg(typeSeccomp, hexComm)} {
		dgram = append(dgram, m...)
		for len(dgram)%4 != 0 {
			dgram = append(dgram, 0)
		}
	}
	got := Parse(dgram)
	want := []Record{
		{PID: 25314, Arch: auditArchX86_64, Syscall: 231, Code: RetLog, Comm: "sh"},
		{PID: 25315, Arch: auditArchX86_64, Syscall: 1, Code: RetLog, Comm: "782073797363616C6C3D31"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// A single message as the multicast group delivers it: no padding at all.
	if got := Parse(msg(typeSeccomp, refused)); len(got) != 1 || got[0].Code != 0x50001 || got[0].Syscall != 165 {
		t.Errorf("refused = %+v", got)
	}
	// Truncated or broken input gives nothing, and never panics.
	for _, b := range [][]byte{nil, {1, 2, 3}, msg(typeSeccomp, "pid=1 arch=zz syscall=1 code=0x7ffc0000"), msg(typeSeccomp, exitGroup)[:40]} {
		if got := Parse(b); len(got) != 0 {
			t.Errorf("Parse(%q) = %+v", b, got)
		}
	}
}

func TestRecordName(t *testing.T) {
	tests := []struct {
		text      string
		name, abi string
	}{
		{exitGroup, "exit_group", "x86_64"},
		{hexComm, "write", "x86_64"},
		{i386, "exit_group", "i386"},
		{x32, "write", "x32"},
		{`pid=1 arch=c00000b7 syscall=93 code=0x7ffc0000`, "", "arch 0xc00000b7"},
	}
	for _, tt := range tests {
		rs := Parse(msg(typeSeccomp, tt.text))
		if len(rs) != 1 {
			t.Fatalf("%s: %d records", tt.text, len(rs))
		}
		if n, abi := rs[0].Name(); n != tt.name || abi != tt.abi {
			t.Errorf("%s: %s/%s, want %s/%s", tt.text, n, abi, tt.name, tt.abi)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(msg(typeSeccomp, exitGroup))
	f.Add(append(msg(typeSeccomp, i386), msg(typeSeccomp, x32)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range Parse(b) {
			r.Name()
		}
	})
}

// TestGetStatus asks this kernel for its audit status (root only).
func TestGetStatus(t *testing.T) {
	s, err := GetStatus()
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ECONNREFUSED) {
		testenv.Missing(t, "no CAP_AUDIT_CONTROL in the initial PID namespace: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if s.BacklogLimit == 0 {
		t.Errorf("status %+v: a backlog limit of 0", s)
	}
}
