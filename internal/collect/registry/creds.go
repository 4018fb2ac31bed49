package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/safefile"
)

// DockerConfig is the part of the docker CLI's config.json that holds credentials.
type DockerConfig struct {
	Auths map[string]struct {
		Auth          string `json:"auth"`
		Username      string `json:"username"`
		Password      string `json:"password"`
		IdentityToken string `json:"identitytoken"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`
	CredHelpers map[string]string `json:"credHelpers"`
}

// maxDockerConfig bounds the docker CLI's config.json (kilobytes in practice).
const maxDockerConfig = 4 << 20

// LoadDockerConfig reads $DOCKER_CONFIG/config.json, or ~/.docker/config.json. A
// missing file is an empty configuration.
func LoadDockerConfig(dir string) (*DockerConfig, error) {
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return &DockerConfig{}, nil
		}
		dir = filepath.Join(home, ".docker")
	}
	b, err := safefile.Read(filepath.Join(dir, "config.json"), maxDockerConfig)
	if errors.Is(err, os.ErrNotExist) {
		return &DockerConfig{}, nil
	}
	if err != nil {
		return nil, err
	}
	var c DockerConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	return &c, nil
}

// hostKey normalises a config key or a host: "https://index.docker.io/v1/" → "index.docker.io".
func hostKey(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	if s == "registry-1.docker.io" || s == "docker.io" {
		return "index.docker.io"
	}
	return s
}

// Credentials returns the credentials for a host: its credential helper, else the
// configured store, else the inline auths entry. A helper that has none answers empty.
func (c *DockerConfig) Credentials(host string) (Credential, error) {
	key := hostKey(host)
	// Several keys can name one host (docker.io and https://index.docker.io/v1/): take
	// them in order, so the same configuration always gives the same answer.
	for _, k := range slices.Sorted(maps.Keys(c.CredHelpers)) {
		if hostKey(k) == key {
			return helperGet(c.CredHelpers[k], k)
		}
	}
	if c.CredsStore != "" {
		for _, k := range slices.Sorted(maps.Keys(c.Auths)) {
			if hostKey(k) == key {
				return helperGet(c.CredsStore, k)
			}
		}
		if cred, err := helperGet(c.CredsStore, host); err == nil && cred != (Credential{}) {
			return cred, nil
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Auths)) {
		a := c.Auths[k]
		if hostKey(k) != key {
			continue
		}
		cred := Credential{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken}
		if a.Auth != "" {
			dec, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return Credential{}, fmt.Errorf("auths[%s].auth is not base64", k)
			}
			u, p, ok := strings.Cut(string(dec), ":")
			if !ok {
				return Credential{}, fmt.Errorf("auths[%s].auth is not user:password", k)
			}
			cred.Username, cred.Password = u, p
		}
		return cred, nil
	}
	return Credential{}, nil
}

// helperGet asks docker-credential-<helper> for a server's credentials.
func helperGet(helper, server string) (Credential, error) {
	bin := "docker-credential-" + helper
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "get")
	cmd.Stdin = strings.NewReader(server)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String() + errb.String())
		if strings.Contains(msg, "credentials not found") {
			return Credential{}, nil
		}
		return Credential{}, fmt.Errorf("%s get: %v: %s", bin, err, firstLine(msg))
	}
	var r struct{ Username, Secret string }
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return Credential{}, fmt.Errorf("%s get: %w", bin, err)
	}
	if r.Username == "<token>" {
		return Credential{IdentityToken: r.Secret}, nil
	}
	return Credential{Username: r.Username, Password: r.Secret}, nil
}

// PlaintextRegistries lists the registries whose credentials the configuration holds
// in the file itself ("auth", "password" or "identitytoken"), sorted. The values are
// not returned.
func (c *DockerConfig) PlaintextRegistries() []string {
	var out []string
	for reg, a := range c.Auths {
		if a.Auth != "" || a.Password != "" || a.IdentityToken != "" {
			out = append(out, reg)
		}
	}
	sort.Strings(out)
	return out
}
