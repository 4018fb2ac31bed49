package confine

import (
	"fmt"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/seccomp"
)

// ProfileChecks are the lint rules of dockaudit seccomp lint, one per kind of problem,
// in report order.
func ProfileChecks() []check.Check {
	return []check.Check{
		lintRule("SECCOMP-SYNTAX", finding.High, "Docker accepts the profile as written",
			"A profile Docker cannot parse stops every container that uses it; fields Docker does not know (a typo like \"nmes\") are ignored without a word, so the rule they belong to does nothing.",
			"Fix the reported field, action, operator or argument index; the format is Docker's (see the default profile).",
			"the profile parses, and every action, operator, architecture and field is one Docker knows").UpTo(finding.Critical),
		lintRule("SECCOMP-DEFAULT-ACTION", finding.High, "The default action refuses what the profile does not name",
			"A default action of SCMP_ACT_ALLOW makes the profile a deny list that lets through every syscall it forgot and every syscall added to the kernel later; SCMP_ACT_LOG is recording mode left on.",
			"Use \"defaultAction\": \"SCMP_ACT_ERRNO\" and list what the workload needs (dockaudit seccomp record writes such a list).",
			"the default action refuses").UpTo(finding.Critical),
		lintRule("SECCOMP-DANGEROUS", finding.High, "Dangerous syscalls are allowed only under a capability or an argument condition",
			"Some syscalls are how containers are escaped or the kernel is attacked: the mount API, unshare and setns, clone without the namespace-flag mask, ptrace, bpf, perf_event_open, the keyring, kexec and module loading, open_by_handle_at, userfaultfd, io_uring and more. Docker's default allows them only with the capability that makes them meaningful, or not at all. A gate on a capability Docker gives by default gates nothing; argument conditions count as a restriction (only clone's namespace-flag mask is checked for what it lets through).",
			"Remove them from the allow rules, or gate them the way Docker's default does (\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}, or argument conditions such as clone's namespace-flag mask).",
			"no dangerous syscall is allowed without a capability or argument condition").UpTo(finding.Critical),
		lintRule("SECCOMP-ACTION", finding.Medium, "No syscall is handed to an outside tracer or agent",
			"SCMP_ACT_TRACE and SCMP_ACT_NOTIFY let a ptrace tracer or a user-space agent decide; without one the call fails, and with one the decision is only as good as that agent.",
			"Use SCMP_ACT_ALLOW or SCMP_ACT_ERRNO unless an agent is deliberately part of the design.",
			"no rule uses SCMP_ACT_TRACE or SCMP_ACT_NOTIFY"),
		lintRule("SECCOMP-UNKNOWN-SYSCALL", finding.Low, "Every syscall name exists",
			"A name no architecture has (a typo, or a call from another kernel) matches nothing: the syscall it was meant to allow or refuse gets the default action instead.",
			"Correct the name; names are those of the kernel's syscall tables (x86_64, i386, x32, arm64, arm, and the others Docker's default names).",
			"every syscall name exists"),
		lintRule("SECCOMP-ARCH", finding.Low, "The profile names its architectures",
			"With no architectures only the native one is filtered: 32-bit (i386) and x32 programs are killed on their first syscall.",
			"List them: \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"] (or an archMap like Docker's default).",
			"the profile names its architectures"),
	}
}

func lintRule(id string, sev finding.Severity, title, desc, fix, passMsg string) check.Check {
	return check.Check{Rule: rule(id, finding.KindProfile, sev, title, desc, fix, "seccomp", "profile"),
		Run: func(p *check.Pass) {
			if p.Profile.Digest == "" {
				p.Skip("the profile's content was not read")
				return
			}
			prof, unknown, err := seccomp.Parse([]byte(p.Profile.Content))
			if err != nil {
				if id == "SECCOMP-SYNTAX" {
					p.Fail(err.Error()).Sev(finding.Critical).At(profilePath(p))
				} else {
					p.Skip("the profile does not parse (see SECCOMP-SYNTAX)")
				}
				return
			}
			for _, pb := range seccomp.Lint(prof, unknown) {
				if pb.Rule != id {
					continue
				}
				sev, _ := finding.ParseSeverity(pb.Severity)
				var evs []finding.Evidence
				if pb.Syscall != "" {
					evs = append(evs, ev("syscall", pb.Syscall, "refused, or allowed under a capability or argument condition"))
				}
				if len(p.Profile.Containers) > 0 {
					evs = append(evs, ev("used by", strings.Join(p.Profile.Containers, ", "), ""))
				}
				add := p.Fail
				if sev <= finding.Low {
					add = p.Warn
				}
				add(pb.Message, evs...).Sev(sev).At(profilePath(p))
			}
			if !p.Reported() {
				msg := passMsg
				if len(p.Profile.Containers) > 0 {
					msg += fmt.Sprintf(" (used by %s)", strings.Join(p.Profile.Containers, ", "))
				}
				p.OK(msg)
			}
		}}
}

// profilePath is the location of a profile that is a file.
func profilePath(p *check.Pass) string {
	if p.Profile.Source == "container" {
		return ""
	}
	return p.Profile.Name
}
