package seccomp

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Profile is a Docker seccomp profile (the JSON dockerd and runc take).
type Profile struct {
	DefaultAction    string    `json:"defaultAction"`
	DefaultErrnoRet  *uint     `json:"defaultErrnoRet,omitempty"`
	Architectures    []string  `json:"architectures,omitempty"`
	ArchMap          []ArchMap `json:"archMap,omitempty"`
	Syscalls         []Syscall `json:"syscalls"`
	Flags            []string  `json:"flags,omitempty"`
	ListenerPath     string    `json:"listenerPath,omitempty"`
	ListenerMetadata string    `json:"listenerMetadata,omitempty"`
}

// ArchMap names an architecture and its sub-architectures.
type ArchMap struct {
	Arch      string   `json:"architecture"`
	SubArches []string `json:"subArchitectures"`
}

// Syscall is one rule: an action for a list of syscalls, optionally under argument
// conditions, and included or excluded by capabilities, architectures and kernel.
type Syscall struct {
	Name     string   `json:"name,omitempty"` // deprecated single name
	Names    []string `json:"names,omitempty"`
	Action   string   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []Arg    `json:"args"`
	Comment  string   `json:"comment,omitempty"`
	Includes *Filter  `json:"includes,omitempty"`
	Excludes *Filter  `json:"excludes,omitempty"`
}

// Arg is an argument condition.
type Arg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo"`
	Op       string `json:"op"`
}

// Filter selects rules by capabilities, architectures and kernel version.
type Filter struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// AllNames returns a rule's syscall names, the deprecated single name included.
func (s Syscall) AllNames() []string {
	if s.Name != "" {
		return append([]string{s.Name}, s.Names...)
	}
	return s.Names
}

// Actions are the actions a profile may use, as libseccomp names them.
var Actions = map[string]bool{
	"SCMP_ACT_KILL": true, "SCMP_ACT_KILL_PROCESS": true, "SCMP_ACT_KILL_THREAD": true, "SCMP_ACT_TRAP": true,
	"SCMP_ACT_ERRNO": true, "SCMP_ACT_TRACE": true, "SCMP_ACT_ALLOW": true, "SCMP_ACT_LOG": true, "SCMP_ACT_NOTIFY": true,
}

// Arches are the architecture names a profile may use.
var Arches = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range strings.Fields("X86 X86_64 X32 ARM AARCH64 MIPS MIPS64 MIPS64N32 MIPSEL MIPSEL64 MIPSEL64N32 PPC PPC64 PPC64LE S390 S390X PARISC PARISC64 RISCV64 LOONGARCH64 M68K SH SHEB") {
		m["SCMP_ARCH_"+a] = true
	}
	return m
}()

// Ops are the argument comparison operators.
var Ops = map[string]bool{
	"SCMP_CMP_NE": true, "SCMP_CMP_LT": true, "SCMP_CMP_LE": true, "SCMP_CMP_EQ": true,
	"SCMP_CMP_GE": true, "SCMP_CMP_GT": true, "SCMP_CMP_MASKED_EQ": true,
}

// Parse reads a profile. A syntax error or a wrong type is an error (an object with
// no defaultAction and no syscalls is not: Docker takes it as no profile at all, which
// Lint reports); fields Docker
// does not know are returned in unknown as paths ("syscalls[3].nmes"): Docker ignores
// them silently, so a typo there goes unnoticed, which a linter must say.
func Parse(b []byte) (p *Profile, unknown []string, err error) {
	p = &Profile{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, nil, fmt.Errorf("not a seccomp profile: %w", err)
	}
	if cost := p.cost(); cost > MaxCost {
		return nil, nil, fmt.Errorf("the profile needs about %d BPF comparisons (%d rules); the kernel loads a filter of at most %d instructions, so Docker could not apply it, and dockaudit reads at most %d", cost, len(p.Syscalls), kernelMaxInsns, MaxCost)
	}
	var raw any
	if err := json.Unmarshal(b, &raw); err == nil {
		unknownFields(raw, "", fieldsTop, &unknown)
	}
	return p, unknown, nil
}

// A seccomp filter is a classic BPF program: the kernel takes at most 4096
// instructions per filter (BPF_MAXINSNS) and 32768 along a process's stacked filters.
// A profile is compiled to about one comparison per syscall name and argument
// condition; one that could never load is refused before anything is worked out
// from it, so a crafted profile of hundreds of thousands of rules costs nothing.
const (
	kernelMaxInsns = 32768
	MaxCost        = kernelMaxInsns
)

// cost estimates the BPF comparisons the profile compiles to.
func (p *Profile) cost() int {
	n := 0
	for _, s := range p.Syscalls {
		n += len(s.AllNames()) * (1 + len(s.Args))
		if n > 1<<30 {
			break
		}
	}
	return n
}

// fields is the JSON keys one level of a profile takes, and what is below them.
type fields map[string]fields

var (
	fieldsFilter  = fields{"caps": nil, "arches": nil, "minKernel": nil}
	fieldsSyscall = fields{"name": nil, "names": nil, "action": nil, "errnoRet": nil, "comment": nil,
		"args":     {"index": nil, "value": nil, "valueTwo": nil, "op": nil},
		"includes": fieldsFilter, "excludes": fieldsFilter}
	fieldsTop = fields{"defaultAction": nil, "defaultErrnoRet": nil, "architectures": nil, "flags": nil,
		"listenerPath": nil, "listenerMetadata": nil,
		"archMap":  {"architecture": nil, "subArchitectures": nil},
		"syscalls": fieldsSyscall}
)

// unknownFields walks v (objects, and arrays of objects) and appends the keys known
// does not have. Keys match case-insensitively, as encoding/json (and so Docker) does.
func unknownFields(v any, path string, known fields, out *[]string) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			unknownFields(e, fmt.Sprintf("%s[%d]", path, i), known, out)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, found := fields(nil), false
			for name, s := range known {
				if strings.EqualFold(name, k) {
					sub, found = s, true
					break
				}
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			switch {
			case !found:
				*out = append(*out, p)
			case sub != nil:
				unknownFields(v[k], p, sub, out)
			}
		}
	}
}

//go:embed defaults/*.json
var defaults embed.FS

// DefaultVersions are the Engine versions whose default profile is embedded, oldest
// first; a version picks the newest embedded one not newer than it.
var DefaultVersions = []string{"20.10", "23.0", "24.0", "25.0", "28.5", "29.7"}

// Default returns Docker's default profile as shipped with an Engine version
// ("20.10.24", "27.1", "29"); see defaults/NOTICE for the source of each. Each is
// parsed once: callers share it and must not change it.
func Default(engine string) (*Profile, string, error) {
	chosen := ""
	for _, v := range DefaultVersions {
		if !versionLess(engine, v) {
			chosen = v
		}
	}
	if chosen == "" {
		return nil, "", fmt.Errorf("no embedded default profile for Docker %s (have %s)", engine, strings.Join(DefaultVersions, ", "))
	}
	p, err := parsedDefault(chosen)
	return p, chosen, err
}

// DefaultJSON is Default with the profile's JSON as embedded (for handing to dockerd).
func DefaultJSON(engine string) (*Profile, []byte, error) {
	p, chosen, err := Default(engine)
	if err != nil {
		return nil, nil, err
	}
	b, err := defaults.ReadFile("defaults/docker-" + chosen + ".json")
	return p, b, err
}

// parsedDefaults are the embedded defaults, parsed on first use and never changed
// after: constant data, not state.
var parsedDefaults = sync.OnceValues(func() (map[string]*Profile, error) {
	m := map[string]*Profile{}
	for _, v := range DefaultVersions {
		b, err := defaults.ReadFile("defaults/docker-" + v + ".json")
		if err != nil {
			return nil, err
		}
		p, _, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("embedded default %s: %w", v, err)
		}
		m[v] = p
	}
	return m, nil
})

func parsedDefault(v string) (*Profile, error) {
	m, err := parsedDefaults()
	if err != nil {
		return nil, err
	}
	return m[v], nil
}

// versionLess compares dotted numbers ("20.10.24" < "23.0").
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		var x, y int
		fmt.Sscan(as[i], &x)
		fmt.Sscan(bs[i], &y)
		if x != y {
			return x < y
		}
	}
	return false // equal as far as both go: "29" is not older than "29.7"
}

// Marshal writes a profile as indented JSON.
func Marshal(p *Profile) []byte {
	b, _ := json.MarshalIndent(p, "", "\t")
	return append(b, '\n')
}
