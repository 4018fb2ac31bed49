package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dockaudit/dockaudit/internal/advisory"
	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/collect/trust"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// Config is dockaudit serve's configuration file.
type Config struct {
	Registries []RegistryConfig `yaml:"registries"`
	Advisories AdvisoryConfig   `yaml:"advisories"`
	Webhooks   []WebhookConfig  `yaml:"webhooks"`
	Events     EventsConfig     `yaml:"events"`
	// Workers is how many jobs a replica runs at once (default 2).
	Workers int `yaml:"workers"`
	// TrustPolicy is a trust policy file (dockaudit image --trust-policy's format):
	// what pushed images' signatures and provenance are verified against.
	TrustPolicy string `yaml:"trust_policy"`

	trust *trust.PolicyFile
}

// EventsConfig says how long the outbox keeps events.
type EventsConfig struct {
	// Retention is how long an event is kept once every configured receiver has
	// it (default 720h, 30 days); an event still owed to a receiver is kept.
	Retention Duration `yaml:"retention"`
}

// defaultRetention is how long events are kept when the configuration does not say.
const defaultRetention = 720 * time.Hour

// RegistryConfig is a registry to watch.
type RegistryConfig struct {
	URL string `yaml:"url"`
	// Repositories are globs (path.Match, "*" for all) of the repositories to scan.
	Repositories []string `yaml:"repositories"`
	Poll         Duration `yaml:"poll"`
	// Insecure allows plain HTTP or unverified TLS to a registry that is not on
	// loopback.
	Insecure bool `yaml:"insecure"`
	// Username with PasswordFile or PasswordEnv: the credentials to pull with.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	// NotifySecretFile holds the secret the registry's notification endpoint sends
	// as "Authorization: Bearer SECRET" to POST /hooks/registry.
	NotifySecretFile string `yaml:"notify_secret_file"`

	host     string
	password string
	secret   string
}

// AdvisoryConfig says how the advisory database is kept up to date.
type AdvisoryConfig struct {
	// Update is how often dockaudit db update runs; 0 never (import_dir only).
	Update     Duration `yaml:"update"`
	ImportDir  string   `yaml:"import_dir"`
	Ecosystems []string `yaml:"ecosystems"`
	// UpdateInfoRepos are RPM repositories whose updateinfo.xml is read (Amazon
	// Linux, Oracle Linux), as dockaudit db update --updateinfo-repos takes them.
	UpdateInfoRepos []string `yaml:"updateinfo_repos"`
	// OSVBase, DebianTracker and AlpineBase override the download locations (mirrors).
	OSVBase       string `yaml:"osv_base"`
	DebianTracker string `yaml:"debian_tracker"`
	AlpineBase    string `yaml:"alpine_base"`
	// RedHatRepoMap overrides where Red Hat's repository-to-CPE map is downloaded.
	RedHatRepoMap string `yaml:"redhat_repo_map"`
}

// WebhookConfig is a receiver of events.
type WebhookConfig struct {
	URL        string `yaml:"url"`
	SecretFile string `yaml:"secret_file"`
	// Events are the kinds sent (all when empty).
	Events []string `yaml:"events"`

	secret []byte
}

// Duration is a YAML duration: "30s", "6h", or 0.
type Duration time.Duration

// UnmarshalYAML reads "30s", "1h30m" or 0.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration (30s, 5m, 6h, or 0)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// LoadConfig reads and checks a configuration file; secrets named by files and
// environment variables are read now, so a missing one stops the start, not a scan.
func LoadConfig(p string, getenv func(string) string) (*Config, error) {
	b, err := safefile.Read(p, 1<<20)
	if err != nil {
		return nil, err
	}
	return ParseConfig(b, getenv)
}

// ParseConfig is LoadConfig for the file's content.
func ParseConfig(b []byte, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if c.Workers == 0 {
		c.Workers = 2
	}
	if c.TrustPolicy != "" {
		var err error
		if c.trust, err = trust.LoadPolicyFile(c.TrustPolicy, getenv); err != nil {
			return nil, fmt.Errorf("configuration: trust_policy: %w", err)
		}
	}
	if c.Workers < 0 || c.Workers > 64 {
		return nil, fmt.Errorf("configuration: workers %d: use 1 to 64", c.Workers)
	}
	switch r := time.Duration(c.Events.Retention); {
	case r == 0:
		c.Events.Retention = Duration(defaultRetention)
	case r < time.Hour:
		return nil, fmt.Errorf("configuration: events: retention %s: keep events at least 1h", r)
	}
	seen := map[string]bool{}
	for i := range c.Registries {
		r := &c.Registries[i]
		host, err := registry.HostOf(r.URL)
		if err != nil {
			return nil, fmt.Errorf("configuration: %w", err)
		}
		if seen[host] {
			return nil, fmt.Errorf("configuration: registry %s is listed twice", host)
		}
		seen[host] = true
		r.host = host
		if strings.HasPrefix(r.URL, "http://") && !r.Insecure && !registry.Loopback(host) {
			return nil, fmt.Errorf("configuration: registry %s: plain HTTP only for a registry on loopback, or with insecure: true", r.URL)
		}
		if len(r.Repositories) == 0 {
			r.Repositories = []string{"*"}
		}
		for _, g := range r.Repositories {
			if _, err := path.Match(g, ""); err != nil {
				return nil, fmt.Errorf("configuration: registry %s: repository glob %q: %v", r.URL, g, err)
			}
		}
		if r.Poll == 0 {
			r.Poll = Duration(5 * time.Minute)
		}
		if time.Duration(r.Poll) < time.Second {
			return nil, fmt.Errorf("configuration: registry %s: poll %s is too often (at least 1s)", r.URL, time.Duration(r.Poll))
		}
		switch {
		case r.PasswordFile != "" && r.PasswordEnv != "":
			return nil, fmt.Errorf("configuration: registry %s: give password_file or password_env, not both", r.URL)
		case r.PasswordFile != "":
			if r.password, err = readSecret(r.PasswordFile); err != nil {
				return nil, fmt.Errorf("configuration: registry %s: %w", r.URL, err)
			}
		case r.PasswordEnv != "":
			if r.password = getenv(r.PasswordEnv); r.password == "" {
				return nil, fmt.Errorf("configuration: registry %s: $%s is empty or not set", r.URL, r.PasswordEnv)
			}
		}
		if r.password != "" && r.Username == "" {
			return nil, fmt.Errorf("configuration: registry %s: a password without a username", r.URL)
		}
		if r.NotifySecretFile != "" {
			if r.secret, err = readSecret(r.NotifySecretFile); err != nil {
				return nil, fmt.Errorf("configuration: registry %s: %w", r.URL, err)
			}
		}
	}
	if c.Advisories.Update != 0 && time.Duration(c.Advisories.Update) < time.Minute {
		return nil, fmt.Errorf("configuration: advisories: update %s is too often (at least 1m, or 0)", time.Duration(c.Advisories.Update))
	}
	for _, r := range c.Advisories.UpdateInfoRepos {
		if err := advisory.CheckRepoURL(r); err != nil {
			return nil, fmt.Errorf("configuration: advisories: updateinfo_repos %v", err)
		}
	}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		u, err := url.Parse(w.URL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && (u.Scheme != "http" || !registry.Loopback(u.Host))) {
			return nil, fmt.Errorf("configuration: webhook %s: https:// only (plain http:// for loopback)", w.URL)
		}
		if w.SecretFile == "" {
			return nil, fmt.Errorf("configuration: webhook %s: secret_file is required (events are signed with it)", w.URL)
		}
		s, err := readSecret(w.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("configuration: webhook %s: %w", w.URL, err)
		}
		w.secret = []byte(s)
		for _, k := range w.Events {
			if !knownKind(k) {
				return nil, fmt.Errorf("configuration: webhook %s: unknown event kind %q (%s)", w.URL, k, strings.Join(eventKinds, ", "))
			}
		}
	}
	return c, nil
}

// readSecret reads a secret file: a regular file of at most 64 KiB (a device or a
// FIFO named by mistake must not hang the start).
func readSecret(p string) (string, error) {
	b, err := safefile.Read(p, 64<<10)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", p)
	}
	return s, nil
}

// registryFor returns the configured registry with that host.
func (c *Config) registryFor(host string) *RegistryConfig {
	for i := range c.Registries {
		if c.Registries[i].host == host {
			return &c.Registries[i]
		}
	}
	return nil
}

// wants reports whether a repository matches the registry's globs.
func (r *RegistryConfig) wants(repo string) bool {
	for _, g := range r.Repositories {
		if ok, _ := path.Match(g, repo); ok || g == "*" {
			return true
		}
	}
	return false
}

func (r *RegistryConfig) credentials(host string) (registry.Credential, error) {
	if host != r.host || r.Username == "" {
		return registry.Credential{}, nil
	}
	return registry.Credential{Username: r.Username, Password: r.password}, nil
}
