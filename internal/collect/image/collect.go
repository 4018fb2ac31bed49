package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/inventory"
	"github.com/dockaudit/dockaudit/internal/inventory/rpmdb"
	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// Package databases, read in every layer that has them to tell which layer
// introduced each package.
const (
	dpkgStatus  = "/var/lib/dpkg/status"
	dpkgStatusD = "/var/lib/dpkg/status.d/"
	apkDB       = "/lib/apk/db/installed"
	rpmSQLite   = "/var/lib/rpm/rpmdb.sqlite"
	rpmSQLite2  = "/usr/lib/sysimage/rpm/rpmdb.sqlite"
	rpmBDB      = "/var/lib/rpm/Packages"
	rpmBDB2     = "/usr/lib/sysimage/rpm/Packages"
	rpmNDB      = "/var/lib/rpm/Packages.db"
	rpmNDB2     = "/usr/lib/sysimage/rpm/Packages.db"
)

// rpmDatabases are where rpm keeps its database, in the order dockaudit looks: the
// SQLite file of rpm 4.16 and later, the NDB file (SUSE), the BerkeleyDB file (rpm
// before 4.16), each under /var/lib/rpm and /usr/lib/sysimage/rpm (either may link to
// the other). rpm reads one: the first found is read.
var rpmDatabases = []string{rpmSQLite, rpmSQLite2, rpmNDB, rpmNDB2, rpmBDB, rpmBDB2}

// isRPMDatabase reports a path that is one of rpm's database files, wherever it is (a
// linked /var/lib/rpm makes any such path the real one).
func isRPMDatabase(p string) bool {
	return strings.HasSuffix(p, "/rpm/rpmdb.sqlite") || strings.HasSuffix(p, "/rpm/Packages") || strings.HasSuffix(p, "/rpm/Packages.db")
}

var exactRead = map[string]bool{
	"/etc/os-release": true, "/usr/lib/os-release": true, "/etc/alpine-release": true,
	"/etc/passwd": true, "/etc/shadow": true, "/etc/group": true,
}

// baseOf is the image an image says it is built on: the OCI base annotations in its
// manifest, else the same keys as configuration labels.
func baseOf(src *Source) *facts.Base {
	const name, digest = "org.opencontainers.image.base.name", "org.opencontainers.image.base.digest"
	if n := src.Annotations[name]; n != "" {
		return &facts.Base{Name: n, Digest: src.Annotations[digest], From: "manifest annotation"}
	}
	if src.Config != nil {
		if n := src.Config.Config.Labels[name]; n != "" {
			return &facts.Base{Name: n, Digest: src.Config.Config.Labels[digest], From: "label"}
		}
	}
	return nil
}

// contentManifests is where Red Hat's images list the repositories (content sets)
// their packages were installed from; since 2025 also in contentSetsFile.
const (
	contentManifests = "/root/buildinfo/content_manifests/"
	contentSetsFile  = "/usr/share/buildinfo/content-sets.json"
)

func isContentManifest(p string) bool {
	return p == contentSetsFile || (strings.HasPrefix(p, contentManifests) && strings.HasSuffix(p, ".json"))
}

// maxContentManifest bounds one manifest (they list content sets and a few image
// facts, a few kilobytes); maxManifests and maxContentSets bound what an image's
// manifests may name in all.
const (
	maxContentManifest = 1 << 20
	maxManifests       = 32
	maxContentSets     = 128
)

// contentSetName is what a repository ID looks like.
var contentSetName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$`)

var sudoPaths = []string{"/usr/bin/sudo", "/bin/sudo", "/usr/sbin/sudo", "/usr/local/bin/sudo"}

// cacheDirs are where package managers leave downloads behind.
var cacheDirs = []string{"/var/cache/apt/archives", "/var/lib/apt/lists", "/var/cache/apk", "/var/cache/yum", "/var/cache/dnf", "/root/.cache/pip"}

// systemPrefixes hold files shipped by packages; they are not scanned for secrets (test
// keys inside libraries would drown the report), except files named like credentials.
var systemPrefixes = []string{
	"/usr/share/", "/usr/lib/", "/usr/lib64/", "/usr/libexec/", "/lib/", "/lib64/", "/usr/include/",
	"/usr/src/", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/boot/", "/var/lib/dpkg/",
	"/var/lib/apt/", "/var/lib/rpm/", "/var/cache/", "/var/log/", "/etc/ssl/certs/", "/usr/local/lib/",
}

// want decides, per entry, what the image audit needs from it. It runs for every tar
// entry, so it sticks to prefix and suffix tests.
func want(e Entry) Action {
	p := e.Path
	var act Action
	switch {
	case p == dpkgStatus || p == apkDB || slices.Contains(rpmDatabases, p):
		return Read | History
	case exactRead[p], strings.HasPrefix(p, dpkgStatusD):
		return Read
	case isContentManifest(p) && e.Regular() && e.Size <= maxContentManifest:
		return Read
	case strings.HasSuffix(p, "/dpkg/status") || strings.HasSuffix(p, "/apk/db/installed") || isRPMDatabase(p):
		// A package database elsewhere, which a symlinked /var/lib/dpkg or
		// /var/lib/rpm makes the real one: read it, so the link is followed.
		return Read
	}
	if e.Type == tar.TypeDir {
		if path.Base(p) == ".git" {
			return Keep
		}
		return Skip
	}
	if !e.Regular() {
		return Skip
	}
	if e.Mode&0o6000 != 0 || slices.Contains(sudoPaths, p) || inCache(p) {
		act |= Keep
	}
	base := path.Base(p)
	switch {
	case base == "METADATA" && strings.HasSuffix(path.Dir(p), ".dist-info"),
		base == "PKG-INFO" && (strings.HasSuffix(path.Dir(p), ".egg-info") || path.Base(path.Dir(p)) == "EGG-INFO"),
		strings.HasSuffix(p, ".egg-info") && !strings.Contains(p, "/node_modules/"):
		return act | Read
	case strings.HasSuffix(base, ".egg"):
		return act | Derive // a zipped egg: its EGG-INFO/PKG-INFO
	case base == "package.json" && inventory.IsNpmManifest(p),
		inventory.IsGemspec(p), inventory.IsAppLockfile(p),
		strings.HasSuffix(p, "/vendor/composer/installed.json"), strings.HasSuffix(base, ".deps.json"):
		return act | Read
	case inventory.IsJavaArchive(base):
		return act | Derive
	}
	if e.Size <= 1<<20 && scannable(p) {
		act |= Scan // an executable that is not ELF (a script) is scanned too
	}
	if e.Mode&0o111 != 0 && e.Size >= 4096 {
		act |= ScanGo
	}
	return act
}

func inCache(p string) bool {
	for _, d := range cacheDirs {
		if strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// scannable reports files worth scanning for secrets.
func scannable(p string) bool {
	if strings.Contains(p, "/node_modules/") || strings.Contains(p, "/site-packages/") || strings.Contains(p, "/dist-packages/") {
		return false // third-party packages ship test keys
	}
	if secrets.Candidate(p) {
		return true
	}
	for _, s := range systemPrefixes {
		if strings.HasPrefix(p, s) {
			return false
		}
	}
	return true
}

// CollectOptions tune Collect.
type CollectOptions struct {
	Limits Limits
	// InventoryOnly reads only what the package inventory needs (dockaudit sbom): no
	// secret scanning, setuid, sudo or cache bookkeeping.
	InventoryOnly bool
	// Cache keeps each layer's record by diff ID (dockaudit serve); nil reads every
	// layer.
	Cache LayerCache
}

// inventoryOnly narrows want to the package inventory.
func inventoryOnly(e Entry) Action {
	a := want(e) &^ (Scan | Keep)
	if e.Type == tar.TypeDir {
		return Skip
	}
	if a&(Read|History) != 0 {
		a |= Keep
	}
	return a
}

// Collect reads an opened image and returns its facts: the configuration, and, from
// its layers, the inventory, setuid files, secrets, accounts and anomalies.
func Collect(ctx context.Context, src *Source, opts CollectOptions) (*facts.Image, error) {
	im := &facts.Image{ID: src.ID, Source: src.Kind, Ref: src.Ref, Digest: src.Digest, Tags: []string{src.Ref}, Digests: []string{}, History: []facts.History{},
		Annotations: src.Annotations}
	im.Base = baseOf(src)
	if src.Digest != "" {
		im.Digests = []string{src.Digest}
	}
	if src.Config != nil {
		configFacts(im, src)
	} else {
		for _, l := range src.Layers {
			im.Layers = append(im.Layers, facts.ImageLayer{Digest: l.Digest})
		}
	}
	if len(im.History) == 0 {
		// No build step is recorded (a root filesystem directory, an image whose
		// configuration keeps no history): the rules on build steps cannot say "none".
		im.History = nil
		why := "the image's configuration records no build history"
		if src.Config == nil {
			why = "a root filesystem directory has no build history"
		}
		if im.Unknown == nil {
			im.Unknown = map[facts.Part]string{}
		}
		im.Unknown[facts.PartHistory] = why
	}
	w := want
	if opts.InventoryOnly {
		w = inventoryOnly
	}
	wopts := Options{
		Limits: opts.Limits,
		Want:   w,
		OnContent: func(layer int, p string, data []byte) []facts.Secret {
			var found []facts.Secret
			for _, m := range secrets.Scan(p, data) {
				found = append(found, facts.Secret{Kind: m.Kind, Path: p, Layer: layer, Line: m.Line, Hash: m.Hash, Length: m.Length, Detail: m.Detail})
			}
			return found
		},
		Derive: func(layer int, p string, data []byte) []facts.Package {
			if strings.HasSuffix(p, ".egg") {
				return inventory.PythonEgg(data, p, layer)
			}
			return inventory.JavaPackages(data, p, layer)
		},
	}
	if !opts.InventoryOnly {
		// The record depends on what want keeps: the narrower inventory walk is not cached.
		wopts.Cache = opts.Cache
	}
	v, err := Walk(ctx, src.Layers, wopts)
	if err != nil {
		return nil, err
	}
	c := &facts.ImageContent{Packages: []facts.Package{}, Setuid: []facts.FileMeta{}, Secrets: []facts.Secret{}, GitDirs: []string{}, Sudo: []string{}, Caches: []facts.Cache{}}
	for i, l := range v.Layers {
		c.Entries += l.Entries
		if i < len(im.Layers) {
			im.Layers[i].Entries = l.Entries
		}
	}
	for _, a := range v.Anomalies {
		c.Anomalies = append(c.Anomalies, facts.Anomaly{Layer: a.Layer, Path: a.Path, Reason: a.Reason})
	}
	c.OS = detectOS(v)
	c.OS.ContentSets = contentSets(v, c)
	inventoryPackages(v, c)
	c.OS.Products = suseProducts(c)
	for _, n := range v.Nodes(nil) {
		switch {
		case n.IsRegular() && n.Mode&0o6000 != 0:
			c.Setuid = append(c.Setuid, facts.FileMeta{Path: n.Path, Mode: uint32(n.Mode & 0o7777), UID: n.UID, GID: n.GID, Layer: n.Layer})
		case n.IsDir() && path.Base(n.Path) == ".git":
			c.GitDirs = append(c.GitDirs, n.Path)
		}
		if slices.Contains(sudoPaths, n.Path) {
			c.Sudo = append(c.Sudo, n.Path)
		}
	}
	c.Caches = caches(v)
	for _, s := range v.Secrets {
		if n, err := v.Resolve(s.Path, false); err != nil || n.Layer != s.Layer {
			s.Removed = true
		}
		c.Secrets = append(c.Secrets, s)
	}
	sort.SliceStable(c.Secrets, func(i, j int) bool {
		a, b := c.Secrets[i], c.Secrets[j]
		return a.Path < b.Path || (a.Path == b.Path && a.Layer < b.Layer)
	})
	c.Accounts = accounts(v)
	im.Content = c
	return im, nil
}

// configFacts copies what the checks use from the image configuration, and pairs each
// layer with the history step that made it.
func configFacts(im *facts.Image, src *Source) {
	cfg := src.Config
	im.Created = cfg.Created.UTC().Format("2006-01-02T15:04:05Z")
	im.Platform = cfg.OS + "/" + cfg.Architecture
	if cfg.Variant != "" {
		im.Platform += "/" + cfg.Variant
	}
	// An image configuration without a config section has no settings: that is
	// known, and it is an empty ImageConfig.
	ic := &facts.ImageConfig{User: cfg.Config.User, Env: cfg.Config.Env, Entrypoint: cfg.Config.Entrypoint, Cmd: cfg.Config.Cmd}
	if cfg.Config.Healthcheck != nil {
		ic.Healthcheck = cfg.Config.Healthcheck.Test
	}
	for k, v := range cfg.Config.Labels {
		ic.Labels = append(ic.Labels, [2]string{k, v})
	}
	sort.Slice(ic.Labels, func(i, j int) bool { return ic.Labels[i][0] < ic.Labels[j][0] })
	for vol := range cfg.Config.Volumes {
		ic.Volumes = append(ic.Volumes, vol)
	}
	sort.Strings(ic.Volumes)
	for p := range cfg.Config.ExposedPorts {
		ic.ExposedPorts = append(ic.ExposedPorts, p)
	}
	sort.Strings(ic.ExposedPorts)
	im.Config = ic
	im.History = []facts.History{}
	layer := 0
	for _, h := range cfg.History {
		im.History = append(im.History, facts.History{CreatedBy: h.CreatedBy, EmptyLayer: h.EmptyLayer})
		if !h.EmptyLayer {
			if layer < len(src.Layers) {
				im.Layers = append(im.Layers, facts.ImageLayer{Digest: src.Layers[layer].Digest, CreatedBy: h.CreatedBy})
			}
			layer++
		}
	}
	for ; layer < len(src.Layers); layer++ {
		im.Layers = append(im.Layers, facts.ImageLayer{Digest: src.Layers[layer].Digest})
	}
}

// detectOS reads os-release, falling back to Alpine's release file, busybox, or an
// image with no OS files at all (scratch).
func detectOS(v *View) facts.OS {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := v.ReadFile(p); err == nil && len(b) > 0 {
			os := inventory.ParseOSRelease(b)
			if os.ID == "" {
				continue
			}
			os.Distroless = len(v.Nodes(func(n *Node) bool { return strings.HasPrefix(n.Path, dpkgStatusD) })) > 0 && !v.Exists(dpkgStatus)
			return os
		}
	}
	if b, err := v.ReadFile("/etc/alpine-release"); err == nil {
		return facts.OS{ID: "alpine", VersionID: strings.TrimSpace(string(b))}
	}
	if v.Exists("/bin/busybox") || v.Exists("/usr/bin/busybox") || v.Exists("/bin/sh") {
		return facts.OS{ID: "busybox"}
	}
	// No OS files and no package database: a FROM scratch image (empty, or a static
	// program and its files).
	for _, db := range append([]string{dpkgStatus, apkDB}, rpmDatabases...) {
		if v.Exists(db) {
			return facts.OS{}
		}
	}
	return facts.OS{ID: "scratch"}
}

// contentSets reads the content sets of an image's Red Hat content manifests; a
// manifest that does not decode is a note, and so are manifests or sets beyond the
// bounds.
func contentSets(v *View, c *facts.ImageContent) []string {
	seen := map[string]bool{}
	var sets []string
	over := false
	files := v.Nodes(func(n *Node) bool { return n.IsRegular() && isContentManifest(n.Path) })
	if len(files) > maxManifests {
		c.Notes = append(c.Notes, fmt.Sprintf("%d Red Hat content manifests: only the first %d are read", len(files), maxManifests))
		files = files[:maxManifests]
	}
	for _, n := range files {
		b, err := v.ReadFile(n.Path)
		var m struct {
			ContentSets []string `json:"content_sets"`
		}
		if err == nil && len(b) > maxContentManifest {
			err = fmt.Errorf("larger than %d bytes", maxContentManifest)
		}
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			c.Notes = append(c.Notes, fmt.Sprintf("%s: %v: its content sets are not used", n.Path, textsafe.FirstLine(err.Error(), 200)))
			continue
		}
		for _, s := range m.ContentSets {
			switch {
			case seen[s]:
			case !contentSetName.MatchString(s):
				c.Notes = append(c.Notes, fmt.Sprintf("%s: %q is not a repository ID: not used", n.Path, textsafe.FirstLine(s, 80)))
				seen[s] = true
			case len(sets) == maxContentSets:
				if !over {
					c.Notes = append(c.Notes, fmt.Sprintf("%s: more than %d content sets: the rest are not used", n.Path, maxContentSets))
				}
				over, seen[s] = true, true
			default:
				seen[s] = true
				sets = append(sets, s)
			}
		}
	}
	slices.Sort(sets)
	return sets
}

// suseProducts lists the SUSE products a SUSE Linux Enterprise image has installed:
// their release packages (sles-release, sles-ltss-release, sle-module-…-release).
func suseProducts(c *facts.ImageContent) []string {
	if !strings.HasPrefix(c.OS.ID, "sle") && c.OS.ID != "sl-micro" {
		return nil
	}
	var out []string
	for _, p := range c.Packages {
		n := strings.ToLower(p.Name)
		if p.Type == "rpm" && strings.HasSuffix(n, "-release") && (strings.HasPrefix(n, "sle") || strings.HasPrefix(n, "sl-micro")) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// inventoryPackages reads every package source in the final filesystem. The layer of a
// database package is the layer whose copy of the database first listed it at its
// final version.
func inventoryPackages(v *View, c *facts.ImageContent) {
	os := c.OS
	if v.Exists(dpkgStatus) {
		first := introduced(v.History(dpkgStatus), func(b []byte) map[string]string {
			m := map[string]string{}
			for _, p := range inventory.ParseDpkgStatus(b) {
				m[p.Name+"/"+p.Arch] = p.Version
			}
			return m
		})
		b, _ := v.ReadFile(dpkgStatus)
		for _, p := range inventory.DpkgToPackages(inventory.ParseDpkgStatus(b), os, dpkgStatus, 0) {
			p.Layer = first[p.Name+"/"+p.Arch]
			c.Packages = append(c.Packages, p)
		}
	}
	for _, n := range v.Nodes(func(n *Node) bool { return strings.HasPrefix(n.Path, dpkgStatusD) && n.IsRegular() }) {
		c.Packages = append(c.Packages, inventory.DpkgToPackages(inventory.ParseDpkgStatus(n.Data), os, n.Path, n.Layer)...)
	}
	if v.Exists(apkDB) {
		first := introduced(v.History(apkDB), func(b []byte) map[string]string {
			m := map[string]string{}
			for _, p := range inventory.ParseApkInstalled(b) {
				m[p.Name] = p.Version
			}
			return m
		})
		b, _ := v.ReadFile(apkDB)
		for _, p := range inventory.ApkToPackages(inventory.ParseApkInstalled(b), os, apkDB, 0) {
			p.Layer = first[p.Name]
			c.Packages = append(c.Packages, p)
		}
	}
	unread := func(msg string) {
		c.Notes = append(c.Notes, msg)
		c.Unread = append(c.Unread, msg)
	}
	// On Fedora 36 and later and on openSUSE /var/lib/rpm links to
	// /usr/lib/sysimage/rpm: one database, read once, under its real path (where its
	// history is indexed). rpm uses one database; another one left beside it is named.
	// One that cannot be read is noted as unread, and the next one found is tried.
	var rpmDB string
	tried := map[string]bool{}
	for _, db := range rpmDatabases {
		n, err := v.Resolve(db, true)
		switch {
		case err != nil || !n.IsRegular() || tried[n.Path]:
		case rpmDB == "":
			tried[n.Path] = true
			if pkgs, ok := rpmPackages(v, n, os, c); ok {
				rpmDB = n.Path
				c.Packages = append(c.Packages, pkgs...)
			}
		default:
			tried[n.Path] = true
			c.Notes = append(c.Notes, fmt.Sprintf("%s is another rpm database beside %s, which was read: rpm uses one, and its packages are not inventoried", n.Path, rpmDB))
		}
	}
	for _, db := range append([]string{dpkgStatus, apkDB}, rpmDatabases...) {
		if how := linked(v, db); how != "" {
			unread(db + " is " + how + ", whose content was not read: its packages are not inventoried")
		} else if n, err := v.Resolve(db, true); err == nil && !n.IsRegular() {
			unread(db + " is not a regular file (" + nodeKind(n) + "): its packages are not inventoried")
		}
	}
	for _, n := range v.Nodes(func(n *Node) bool {
		return n.Data != nil || n.Derived != nil || n.GoBuildInfo != nil || n.Truncated || n.Note != ""
	}) {
		if n.Note != "" {
			// Every note on a file is of packages it holds that were not inventoried
			// (a bundle's deps.json, a crate list, an old Go binary's modules): unread,
			// so matching cannot pass over them.
			unread(n.Path + ": " + n.Note)
		}
		switch {
		case n.GoBuildInfo != nil && n.GoBuildInfo.OldFormat:
			c.Notes = append(c.Notes, n.Path+" was built with Go before 1.18; its modules are not inventoried")
		case n.GoBuildInfo != nil:
			c.Packages = append(c.Packages, inventory.GoPackages(goInfo(n.GoBuildInfo), n.Path, n.Layer)...)
		case n.Derived != nil:
			c.Packages = append(c.Packages, n.Derived...)
		case path.Base(n.Path) == "METADATA" || path.Base(n.Path) == "PKG-INFO" || strings.HasSuffix(n.Path, ".egg-info"):
			if p, ok := inventory.PythonPackage(n.Data, n.Path, n.Layer); ok {
				c.Packages = append(c.Packages, p)
			}
		case path.Base(n.Path) == "package.json":
			if p, ok := inventory.NpmPackage(n.Data, n.Path, n.Layer); ok {
				c.Packages = append(c.Packages, p)
			}
		case inventory.IsGemspec(n.Path):
			if p, ok := inventory.GemPackage(n.Data, n.Path, n.Layer); ok {
				c.Packages = append(c.Packages, p)
			}
		case path.Base(n.Path) == "Gemfile.lock" && inventory.IsAppLockfile(n.Path):
			c.Packages = append(c.Packages, inventory.GemfileLockPackages(n.Data, n.Path, n.Layer)...)
		case strings.HasSuffix(n.Path, "/vendor/composer/installed.json"):
			c.Packages = append(c.Packages, inventory.ComposerPackages(n.Data, n.Path, n.Layer)...)
		case strings.HasSuffix(n.Path, ".deps.json"):
			c.Packages = append(c.Packages, inventory.DotnetPackages(n.Data, n.Path, n.Layer)...)
		case path.Base(n.Path) == "Cargo.lock" && inventory.IsAppLockfile(n.Path):
			c.Packages = append(c.Packages, inventory.CargoLockPackages(n.Data, n.Path, n.Layer)...)
		}
		if n.Truncated {
			c.Notes = append(c.Notes, n.Path+" is larger than the read limit and was not fully read")
		}
	}
	sort.SliceStable(c.Packages, func(i, j int) bool {
		a, b := c.Packages[i], c.Packages[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Path < b.Path
	})
}

// introduced maps each package key to the layer whose database copy first listed it
// at the version it has in the last copy.
func introduced(versions []Version, parse func([]byte) map[string]string) map[string]int {
	out := map[string]int{}
	prev := map[string]string{}
	for _, ver := range versions {
		cur := parse(ver.Data)
		for k, v := range cur {
			if pv, ok := prev[k]; !ok || pv != v {
				out[k] = ver.Layer
			}
		}
		prev = cur
	}
	return out
}

// rpmPackages reads one rpm database; false (with an unread note) when it cannot.
func rpmPackages(v *View, n *Node, os facts.OS, c *facts.ImageContent) ([]facts.Package, bool) {
	db := n.Path
	unread := func(msg string) ([]facts.Package, bool) {
		c.Notes = append(c.Notes, msg)
		c.Unread = append(c.Unread, msg)
		return nil, false
	}
	if n.Truncated {
		return unread(fmt.Sprintf("%s is larger than the read limit (%d MiB): its packages are not inventoried", db, v.lim.MaxFileRead>>20))
	}
	b, _ := v.ReadFile(db)
	ps, bad, err := rpmdb.Read(b)
	if err != nil {
		return unread(db + ": " + err.Error() + ": its packages are not inventoried")
	}
	if bad > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: %d package headers could not be decoded", db, bad))
	}
	first := introduced(v.History(db), func(b []byte) map[string]string {
		m := map[string]string{}
		hs, _, _ := rpmdb.Read(b)
		for _, p := range hs {
			m[p.Name+"/"+p.Arch] = p.EVR()
		}
		return m
	})
	var out []facts.Package
	for _, p := range ps {
		src, srcVer := p.SourceName()
		q := [][2]string{{"arch", p.Arch}}
		if p.HasEpoch {
			q = append(q, [2]string{"epoch", strconv.Itoa(p.Epoch)})
		}
		if os.ID != "" {
			q = append(q, [2]string{"distro", os.ID + "-" + os.VersionID})
		}
		if p.SourceRPM != "" {
			q = append(q, [2]string{"upstream", p.SourceRPM}) // always, as Syft writes it
		}
		pk := facts.Package{Name: p.Name, Version: p.EVR(), Arch: p.Arch, SourceName: src, SourceVersion: srcVer, Type: "rpm",
			Module: p.ModularityLabel, Path: db, Layer: first[p.Name+"/"+p.Arch],
			PURL: inventory.PURL("rpm", rpmNamespace(os), p.Name, p.Version+"-"+p.Release, q)}
		if p.License != "" {
			pk.Licenses = []string{p.License}
		}
		out = append(out, pk)
	}
	return out, true
}

// rpmNamespace is an rpm PURL's vendor, as the PURL specification and Syft write it:
// the os-release ID, except Red Hat's, which os-release calls "rhel" and the PURL
// specification "redhat".
func rpmNamespace(os facts.OS) string {
	if os.ID != "" && os.ID != "rhel" {
		return os.ID
	}
	return "redhat"
}

func goInfo(g *GoBuildInfo) inventory.GoInfo {
	out := inventory.GoInfo{GoVersion: g.GoVersion, Main: inventory.GoMod{Path: g.Main.Path, Version: g.Main.Version}}
	if g.GOOS != "" && g.GOARCH != "" {
		out.Platform = g.GOOS + "/" + g.GOARCH
	}
	for _, d := range g.Deps {
		m := d
		if d.Replace != nil {
			m = *d.Replace // the module the binary really contains
		}
		out.Deps = append(out.Deps, inventory.GoMod{Path: m.Path, Version: m.Version})
	}
	return out
}

// caches counts what package managers left in their cache directories.
func caches(v *View) []facts.Cache {
	counts := map[string]int{}
	for _, n := range v.Nodes(func(n *Node) bool { return n.IsRegular() && inCache(n.Path) }) {
		for _, d := range cacheDirs {
			base := path.Base(n.Path)
			if strings.HasPrefix(n.Path, d+"/") && base != "lock" && !strings.HasSuffix(n.Path, "/partial") {
				counts[d]++
			}
		}
	}
	out := []facts.Cache{}
	for _, d := range sortedKeys(counts) {
		out = append(out, facts.Cache{Path: d, Files: counts[d]})
	}
	return out
}

// accounts finds users without a password and duplicated IDs.
func accounts(v *View) facts.Accounts {
	a := facts.Accounts{EmptyPassword: []string{}, DuplicateUIDs: []string{}, DuplicateGIDs: []string{}}
	passwd, err := v.ReadFile("/etc/passwd")
	if err != nil {
		return a
	}
	a.Read = true
	shadow, _ := v.ReadFile("/etc/shadow")
	group, _ := v.ReadFile("/etc/group")
	empty := map[string]bool{}
	for _, line := range strings.Split(string(shadow), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 2 && f[0] != "" && f[1] == "" {
			empty[f[0]] = true
		}
	}
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 2 && f[0] != "" && (f[1] == "" || (f[1] == "x" && empty[f[0]])) {
			a.EmptyPassword = append(a.EmptyPassword, f[0])
		}
	}
	a.DuplicateUIDs = duplicates(passwd, 2)
	a.DuplicateGIDs = duplicates(group, 2)
	return a
}

// duplicates lists IDs (field i of colon-separated lines) that several names share.
func duplicates(b []byte, field int) []string {
	byID := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) > field && f[0] != "" && !strings.HasPrefix(f[0], "#") {
			byID[f[field]] = append(byID[f[field]], f[0])
		}
	}
	out := []string{}
	for _, id := range sortedKeys(byID) {
		if names := byID[id]; len(names) > 1 {
			out = append(out, id+": "+strings.Join(names, ", "))
		}
	}
	return out
}

// nodeKind names what a non-regular node is, for a note.
func nodeKind(n *Node) string {
	switch n.Type {
	case tar.TypeDir:
		return "a directory"
	case tar.TypeFifo:
		return "a FIFO"
	case tar.TypeChar, tar.TypeBlock:
		return "a device"
	case tar.TypeSymlink:
		return "a link"
	}
	return fmt.Sprintf("tar type %q", n.Type)
}

// linked says why a package database that is there could not be read: it is a hard
// link to a file the walk did not capture ("" when it was read or is absent). Symbolic
// links are followed (the database is read wherever they lead).
func linked(v *View, p string) string {
	_, err := v.Resolve(p, true)
	if !errors.Is(err, ErrNotCaptured) {
		return ""
	}
	if n, ok := v.nodes[p]; ok && n.Type == tar.TypeLink {
		return "a hard link to " + n.Link
	}
	return "a link to a file that was not read"
}
