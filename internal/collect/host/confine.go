package host

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/collect/hostfs"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// ContainerConfinement reads, for every running container, what the kernel says about
// its init process: seccomp mode and filters, no-new-privileges, capability sets, the
// user-namespace mapping and the LSM label. The PID comes from the Engine API; it is
// trusted only when the process's cgroup names the container (a PID reused after the
// container stopped is someone else's).
func ContainerConfinement(procRoot string, cs []facts.Container) {
	for i := range cs {
		c := &cs[i]
		if c.Error != "" || !c.Running() || c.PID() <= 0 {
			continue
		}
		c.Confinement = readConfinement(procRoot, c.ID, c.PID())
	}
}

func readConfinement(procRoot, id string, pid int) *facts.Confinement {
	conf := &facts.Confinement{PID: pid, Filters: -1}
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	cg, err := os.ReadFile(filepath.Join(dir, "cgroup"))
	if err != nil {
		conf.Error = fmt.Sprintf("PID %d: %v", pid, unwrapPath(err))
		return conf
	}
	if !bytes.Contains(cg, []byte(id)) {
		conf.Error = fmt.Sprintf("PID %d is not the container's: its cgroup does not name it", pid)
		return conf
	}
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		conf.Error = fmt.Sprintf("PID %d: %v", pid, unwrapPath(err))
		return conf
	}
	if err := parseStatus(status, conf); err != nil {
		conf.Error = fmt.Sprintf("PID %d: %v", pid, err)
		return conf
	}
	if m, err := os.ReadFile(filepath.Join(dir, "uid_map")); err == nil {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(m)), "\n") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
		conf.UIDMap = strings.Join(lines, "; ")
	} else {
		conf.UIDMapError = unwrapPath(err).Error()
	}
	// No LSM that provides a label: the read fails with EINVAL, and there is none.
	if l, err := os.ReadFile(filepath.Join(dir, "attr", "current")); err == nil {
		conf.LSMLabel = strings.TrimRight(string(l), "\x00\n")
	}
	return conf
}

// parseStatus takes the confinement lines of /proc/PID/status.
func parseStatus(b []byte, conf *facts.Confinement) error {
	seen := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		var err error
		switch k {
		case "Seccomp":
			conf.Seccomp, err = strconv.Atoi(v)
		case "Seccomp_filters":
			conf.Filters, err = strconv.Atoi(v)
		case "NoNewPrivs":
			conf.NoNewPrivs = v == "1"
		case "CapEff":
			conf.CapEff = v
		case "CapBnd":
			conf.CapBnd = v
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("status %s: %q is not a number", k, v)
		}
		seen[k] = true
	}
	for _, k := range []string{"Seccomp", "NoNewPrivs", "CapEff", "CapBnd"} {
		if !seen[k] {
			return fmt.Errorf("status has no %s line", k)
		}
	}
	return nil
}

// unwrapPath drops the path from a file error: the message already names the PID.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// SeccompProfiles gathers the custom seccomp profiles in use: each container's (the
// daemon keeps the JSON the client sent), once per distinct content, and the daemon's
// own default when it is a file and root is the host's filesystem ("" when the daemon
// is not on this host).
func SeccompProfiles(root string, e facts.Engine, cs []facts.Container) []facts.Profile {
	var out []facts.Profile
	byName := map[string]int{}
	for _, c := range cs {
		if c.Error != "" || c.HostConfig == nil || c.HostConfig.Privileged {
			continue
		}
		vals := c.SecurityOptValues("seccomp")
		if len(vals) == 0 || !strings.HasPrefix(strings.TrimSpace(vals[len(vals)-1]), "{") {
			continue
		}
		content := vals[len(vals)-1]
		name := facts.ProfileDigest(content)
		if i, ok := byName[name]; ok {
			out[i].Containers = append(out[i].Containers, c.Name)
			continue
		}
		byName[name] = len(out)
		out = append(out, facts.Profile{Name: name, Digest: name, Source: "container", Containers: []string{c.Name}, Content: content})
	}
	for i := range out {
		sort.Strings(out[i].Containers)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if opt, ok := e.SecurityOption("seccomp"); ok && root != "" {
		switch p := opt["profile"]; p {
		case "", "default", "builtin", "unconfined":
		default:
			prof := facts.Profile{Name: p, Source: "daemon"}
			b, err := hostfs.New(root).ReadFile(p)
			if err != nil {
				prof.Error = "the daemon's seccomp profile: " + err.Error()
			} else {
				prof.Content = string(b)
				prof.Digest = facts.ProfileDigest(prof.Content)
			}
			out = append(out, prof)
		}
	}
	return out
}
