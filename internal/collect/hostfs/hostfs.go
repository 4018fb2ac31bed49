package hostfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/rootpath"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// MaxRead bounds every file read from the host: configuration files are small, and a
// huge or endless file (a FIFO, /dev/zero behind a symlink) must not stall the audit.
const MaxRead = 4 << 20

const maxLinks = 40

// FS reads the host's files under Root. Paths given to it are absolute host paths
// ("/etc/docker/daemon.json"); symlinks are resolved inside Root, so an absolute link
// target points into Root too, as it would for a process on that host.
type FS struct {
	Root string

	users, groups map[int]string
	// accountsErr says why /etc/passwd or /etc/group could not be read.
	accountsErr string
}

// New returns an FS rooted at root ("/" for the local host).
func New(root string) *FS {
	if root == "" {
		root = "/"
	}
	f := &FS{Root: filepath.Clean(root)}
	f.users = parseIDNames(f.readSmall("/etc/passwd"))
	f.groups = parseIDNames(f.readSmall("/etc/group"))
	for _, p := range []string{"/etc/passwd", "/etc/group"} {
		if _, err := f.ReadFile(p); err != nil && f.accountsErr == "" {
			f.accountsErr = err.Error()
		}
	}
	return f
}

// AccountsError says why the host's /etc/passwd or /etc/group could not be read ("" when
// both were): lookups of users and groups then know nothing.
func (f *FS) AccountsError() string { return f.accountsErr }

func (f *FS) readSmall(p string) []byte {
	b, _ := f.ReadFile(p)
	return b
}

// parseIDNames reads name:x:id: lines of passwd or group files.
func parseIDNames(b []byte) map[int]string {
	m := map[int]string{}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.Split(line, ":")
		if len(parts) < 3 || strings.HasPrefix(parts[0], "#") {
			continue
		}
		if id, err := strconv.Atoi(parts[2]); err == nil {
			if _, dup := m[id]; !dup {
				m[id] = parts[0]
			}
		}
	}
	return m
}

// Resolve maps a host path to the real path under Root, following symlinks (the final
// one too when follow is set) without ever leaving Root.
func (f *FS) Resolve(p string, follow bool) (string, error) {
	if !path.IsAbs(p) {
		return "", fmt.Errorf("host path %q is not absolute", p)
	}
	return rootpath.Resolve(p, follow, maxLinks, func(hp string) (string, bool, error) {
		fi, err := os.Lstat(f.real(hp))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return "", false, err
		}
		target, err := os.Readlink(f.real(hp))
		return target, err == nil, err
	})
}

func (f *FS) real(hostPath string) string {
	return filepath.Join(f.Root, filepath.FromSlash(hostPath))
}

// ReadFile reads a host file, following symlinks inside Root. Files over MaxRead are an error.
func (f *FS) ReadFile(p string) ([]byte, error) {
	r, err := f.Resolve(p, true)
	if err != nil {
		return nil, err
	}
	b, err := safefile.Read(f.real(r), MaxRead)
	switch {
	case errors.Is(err, safefile.ErrNotRegular):
		return nil, fmt.Errorf("%s is not a regular file", p)
	case errors.Is(err, safefile.ErrTooLarge):
		return nil, fmt.Errorf("%s is larger than %d bytes", p, MaxRead)
	}
	return b, err
}

// ReadDir lists a host directory, sorted by name.
func (f *FS) ReadDir(p string) ([]os.DirEntry, error) {
	r, err := f.Resolve(p, true)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(f.real(r))
}

// Stat describes a host path, following symlinks (a link to daemon.json is judged by the
// file it points to). A missing file is not an error: it comes back with Exists false.
func (f *FS) Stat(p string) facts.File {
	out := facts.File{Path: p}
	r, err := f.Resolve(p, true)
	if err == nil {
		out.Real = r
		var fi os.FileInfo
		fi, err = os.Stat(f.real(r))
		if err == nil {
			out.Exists = true
			out.Mode = uint32(fi.Mode().Perm())
			if fi.Mode()&fs.ModeSetuid != 0 {
				out.Mode |= 0o4000
			}
			if fi.Mode()&fs.ModeSetgid != 0 {
				out.Mode |= 0o2000
			}
			if fi.Mode()&fs.ModeSticky != 0 {
				out.Mode |= 0o1000
			}
			out.Type = fileType(fi.Mode())
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				out.UID, out.GID = int(st.Uid), int(st.Gid)
				out.User, out.Group = f.users[out.UID], f.groups[out.GID]
			}
			return out
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		out.Err = err.Error()
	}
	return out
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "dir"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "other"
}

// Walk lists every non-directory path under a host directory (sorted, links not followed
// below the top), up to limit entries. A missing directory yields nil and no error.
func (f *FS) Walk(dir string, limit int) ([]string, error) {
	r, err := f.Resolve(dir, true)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	base := f.real(r)
	var out []string
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == base {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(base, p)
		out = append(out, path.Join(dir, filepath.ToSlash(rel)))
		if len(out) >= limit {
			return fmt.Errorf("more than %d files under %s", limit, dir)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Group is one line of the host's /etc/group.
type Group struct {
	Name    string
	GID     int
	Members []string
}

// LookupGroup finds a group by name in the host's /etc/group.
func (f *FS) LookupGroup(name string) (Group, bool) {
	return f.findGroup(func(g Group) bool { return g.Name == name })
}

// LookupGID finds a group by GID in the host's /etc/group.
func (f *FS) LookupGID(gid int) (Group, bool) {
	return f.findGroup(func(g Group) bool { return g.GID == gid })
}

func (f *FS) findGroup(match func(Group) bool) (Group, bool) {
	for _, line := range strings.Split(string(f.readSmall("/etc/group")), "\n") {
		parts := strings.Split(line, ":")
		if len(parts) < 4 {
			continue
		}
		id, err := strconv.Atoi(parts[2])
		if err != nil {
			continue
		}
		g := Group{Name: parts[0], GID: id}
		for _, m := range strings.Split(parts[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				g.Members = append(g.Members, m)
			}
		}
		if match(g) {
			return g, true
		}
	}
	return Group{}, false
}

// UsersWithPrimaryGroup lists the passwd users whose primary group is gid.
func (f *FS) UsersWithPrimaryGroup(gid int) []string {
	var out []string
	for _, line := range strings.Split(string(f.readSmall("/etc/passwd")), "\n") {
		parts := strings.Split(line, ":")
		if len(parts) < 4 {
			continue
		}
		if id, err := strconv.Atoi(parts[3]); err == nil && id == gid {
			out = append(out, parts[0])
		}
	}
	return out
}

// HomeOf returns the home directory of a UID from the host's /etc/passwd.
func (f *FS) HomeOf(uid int) string {
	for _, line := range strings.Split(string(f.readSmall("/etc/passwd")), "\n") {
		parts := strings.Split(line, ":")
		if len(parts) >= 6 && parts[2] == strconv.Itoa(uid) {
			return parts[5]
		}
	}
	return ""
}

// ModTime returns a host file's modification time.
func (f *FS) ModTime(p string) (time.Time, error) {
	r, err := f.Resolve(p, true)
	if err != nil {
		return time.Time{}, err
	}
	fi, err := os.Stat(f.real(r))
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}
