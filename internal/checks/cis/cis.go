package cis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// Version is the CIS Docker Benchmark version the rule IDs belong to.
const Version = "1.6.0"

const (
	host      = finding.KindHost
	daemon    = finding.KindDaemon
	container = finding.KindContainer
	image     = finding.KindImage
)

var sections = map[string]string{
	"1": "1 Host configuration",
	"2": "2 Docker daemon configuration",
	"3": "3 Docker daemon configuration files",
	"4": "4 Container images and build files",
	"5": "5 Container runtime",
	"6": "6 Docker security operations",
	"7": "7 Docker swarm configuration",
}

// sectionTags name the sections for --include; they differ from the scope tags (host,
// daemon, container, image), which say what a rule is evaluated for.
var sectionTags = map[string]string{
	"1": "host-config", "2": "daemon-config", "3": "daemon-files", "4": "images", "5": "runtime", "6": "operations", "7": "swarm",
}

// Checks returns every CIS Docker Benchmark v1.6.0 check of sections 1–7, in benchmark order.
func Checks() []check.Check {
	var all []check.Check
	for _, s := range [][]check.Check{section1(), section2(), section3(), section4(), section5(), section6(), section7()} {
		all = append(all, s...)
	}
	for i := range all {
		finish(&all[i])
	}
	return all
}

// finish derives what follows from the CIS number: the rule ID, section, tags and reference.
func finish(c *check.Check) {
	c.CIS.Version = Version
	c.ID = "CIS-" + c.CIS.ID
	sec, _, _ := strings.Cut(c.CIS.ID, ".")
	c.Section = sections[sec]
	level := fmt.Sprintf("level%d", c.CIS.Level)
	assess := "manual"
	if c.CIS.Automated {
		assess = "automated"
	}
	c.Tags = []string{"cis", sectionTags[sec], level, assess, string(c.Scope)}
	if c.NeedsHost {
		c.Tags = append(c.Tags, "needs-host")
	}
	c.References = []string{"https://www.cisecurity.org/benchmark/docker"}
}

var ev = check.Ev

// daemonConfig returns the daemon process when its configuration could be read, and
// reports an error finding otherwise.
func daemonConfig(p *check.Pass) (*facts.DaemonProcess, bool) {
	d := p.Facts.Daemon
	if d == nil {
		p.Skip("the daemon process was not found: " + p.Facts.HostAccess.Reason)
		return nil, false
	}
	if d.ConfigError != "" {
		p.Error("cannot read the daemon's configuration: " + d.ConfigError)
		return nil, false
	}
	return d, true
}

// setting describes an option's effective value and where it came from, for evidence.
func setting(d *facts.DaemonProcess, name, def string) string {
	if s, ok := d.Lookup(name); ok {
		v := strings.Join(s.Values, ", ") + " (" + s.Source + ")"
		if s.Source == "daemon.json" && d.ConfigChangedSinceStart {
			v += "; daemon.json changed after dockerd started, so the running daemon may still use an older value"
		}
		return v
	}
	return def + " (default)"
}

// perm formats permission bits the way chmod takes them.
func perm(m uint32) string { return fmt.Sprintf("%04o", m) }

// named describes a file as "what (path)", or just the path when what is the path.
func named(what, filePath string) string {
	if what == filePath {
		return filePath
	}
	return what + " (" + filePath + ")"
}

// hostFile reports skip for a file that is not there and returns it otherwise.
func hostFile(p *check.Pass, filePath, what string) (facts.File, bool) {
	if filePath == "" {
		p.Skip(what + " was not found on this host")
		return facts.File{}, false
	}
	f, ok := p.Facts.Host.Files[filePath]
	switch {
	case !ok:
		p.Error(named(what, filePath) + " was not collected").At(filePath)
		return f, false
	case f.Err != "":
		p.Error(fmt.Sprintf("cannot stat %s: %s", filePath, f.Err)).At(filePath)
		return f, false
	case !f.Exists:
		p.Skip(named(what, filePath) + " is not present on this host").At(filePath)
		return f, false
	}
	return f, true
}

func owner(f facts.File) string {
	u, g := f.User, f.Group
	if u == "" {
		u = fmt.Sprint(f.UID)
	}
	if g == "" {
		g = fmt.Sprint(f.GID)
	}
	return u + ":" + g
}

// ownedByRoot checks a file is owned by root:root, or by root and the group named (for
// the docker socket, owned by root:docker).
func ownedByRoot(p *check.Pass, filePath, what string, groupName string, groupGID int) {
	want, gid := "root:root", -1
	if groupName != "" {
		want, gid = "root:"+groupName, groupGID
	}
	ownedBy(p, filePath, what, 0, gid, want)
}

// ownedBy checks a file's owner is uid and its group is root or gid (gid -1: any).
func ownedBy(p *check.Pass, filePath, what string, uid, gid int, want string) {
	f, ok := hostFile(p, filePath, what)
	if !ok {
		return
	}
	groupOK := f.GID == 0 || f.GID == gid || (gid == -1 && uid != 0)
	e := ev("owner", owner(f), want)
	if f.UID == uid && groupOK {
		p.OK(fmt.Sprintf("%s is owned by %s", filePath, owner(f)), e).At(filePath)
		return
	}
	p.Fail(fmt.Sprintf("%s is owned by %s", filePath, owner(f)), e).At(filePath)
}

// modeAtMost checks a file's permission bits grant nothing beyond max. Modes are compared
// bit by bit: 0477 is not "at most 0644" even though 477 < 644.
func modeAtMost(p *check.Pass, filePath, what string, max uint32) {
	f, ok := hostFile(p, filePath, what)
	if !ok {
		return
	}
	if extra := f.Mode &^ max; extra != 0 {
		p.Fail(fmt.Sprintf("%s has mode %s, which also grants %s", filePath, perm(f.Mode), perm(extra)),
			ev("mode", perm(f.Mode), perm(max)+" or stricter")).At(filePath)
		return
	}
	p.OK(fmt.Sprintf("%s has mode %s", filePath, perm(f.Mode)), ev("mode", perm(f.Mode), perm(max)+" or stricter")).At(filePath)
}

// auditRuleCovers reports whether an audit rule watches target (a real path): a watch
// on it, or a recursive watch on a directory above it, after the kernel's resolution of
// the watched path (resolved maps it; missing means it resolves to itself).
func auditRuleCovers(rule, target string, resolved map[string]string) bool {
	for _, w := range facts.ParseAuditRule(rule) {
		p := w.Path
		if r, ok := resolved[p]; ok {
			p = r
		}
		if target == p || (w.Recursive && p != "/" && strings.HasPrefix(target, p+"/")) {
			return true
		}
	}
	return false
}

// audited checks that some audit rule watches a path. Audit watches follow inodes: the
// kernel resolves a watched path's directories but watches a final symlink itself, so
// the rule must reach the real file (a watch on /usr/bin/runc -> ../sbin/runc watches the
// link, not runc). Rules loaded in the kernel are the truth; rules only in files are not
// active until loaded.
func audited(p *check.Pass, loc facts.Located, what string) {
	if !loc.Found() {
		p.Skip(what + " was not found on this host")
		return
	}
	if f, ok := p.Facts.Host.Files[loc.Path]; ok && !f.Exists {
		p.Skip(named(what, loc.Path) + " is not present on this host").At(loc.Path)
		return
	}
	real := loc.Real
	if real == "" {
		real = loc.Path
	}
	name := real
	if real != loc.Path {
		name = real + " (the real path of " + loc.Path + ")"
	}
	want := "-w " + real + " -p wa -k docker"
	a := p.Facts.Host.Audit
	covering := func(rules []string) string {
		for _, r := range rules {
			if auditRuleCovers(r, real, a.Resolved) {
				return r
			}
		}
		return ""
	}
	inFiles, loaded := covering(a.Files), covering(a.Loaded)
	switch {
	case a.Loaded == nil && inFiles != "":
		// Configured, but whether the kernel has the rule is not known: no pass.
		p.Skip(fmt.Sprintf("audit rule files watch %s, but whether the rule is loaded is not known: the loaded rules could not be listed (%s)", name, a.LoadedError),
			ev("rule file", inFiles, ""), ev("loaded rules", "not listed: "+a.LoadedError, want)).At(loc.Path)
	case a.Loaded == nil:
		// No rule file configures it: that is known, whatever is loaded by hand.
		p.Fail("no audit rule file watches "+name+" (the loaded rules could not be listed: "+a.LoadedError+")",
			ev("audit rules", fmt.Sprintf("%d in rule files; loaded rules unknown (%s)", len(a.Files), a.LoadedError), want)).At(loc.Path)
	case loaded != "":
		p.OK("a loaded audit rule watches "+name, ev("loaded rule", loaded, "")).At(loc.Path)
	case inFiles != "":
		p.Fail(fmt.Sprintf("a rule file watches %s but the rule is not loaded", name),
			ev("rule file", inFiles, ""), ev("loaded rules", fmt.Sprint(len(a.Loaded)), "the same rule loaded (augenrules --load)")).At(loc.Path)
	default:
		if r := watchesLink(slices.Concat(a.Loaded, a.Files), loc.Path); real != loc.Path && r != "" {
			p.Fail(fmt.Sprintf("the audit rule watches %s, a symlink; watches follow inodes, so watch %s", loc.Path, real), ev("rule", r, want)).At(loc.Path)
			return
		}
		p.Fail("no audit rule watches "+name, ev("loaded rules", fmt.Sprint(len(a.Loaded)), want)).At(loc.Path)
	}
}

// watchesLink returns a rule that names path literally.
func watchesLink(rules []string, path string) string {
	for _, r := range rules {
		for _, w := range facts.ParseAuditRule(r) {
			if w.Path == path {
				return r
			}
		}
	}
	return ""
}
