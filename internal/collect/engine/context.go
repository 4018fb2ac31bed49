package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/dockaudit/dockaudit/internal/safefile"
)

// DefaultContext is the docker CLI's name for "no context": DOCKER_HOST, or the
// default socket.
const DefaultContext = "default"

// Lookup is what decides which daemon the docker CLI would talk to.
type Lookup struct {
	HostFlag    string              // --host / -H
	ContextFlag string              // --context
	Getenv      func(string) string // DOCKER_HOST, DOCKER_CONTEXT, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, HOME
	ConfigDir   string              // $DOCKER_CONFIG, else ~/.docker
}

// ContextTLS is a context's TLS material: contexts/tls/<digest>/docker/{ca,cert,key}.pem.
type ContextTLS struct {
	Dir        string
	SkipVerify bool // the context's SkipTLSVerify
}

// maxContextFile bounds config.json and a context's meta.json.
const maxContextFile = 4 << 20

// contextName is the docker CLI's rule for context names.
var contextName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$`)

// Resolve finds the daemon exactly as the docker CLI does: --context, then --host
// (both is an error), then DOCKER_HOST, then DOCKER_CONTEXT, then currentContext in
// config.json, then the default socket. A named context is read from the CLI's
// context store; one that does not exist is an error, never a quiet fall back to the
// default socket (that would audit another daemon than the one the user works with).
func Resolve(l Lookup) (Env, error) {
	get := l.Getenv
	if get == nil {
		get = func(string) string { return "" }
	}
	env := Env{TLSVerify: get("DOCKER_TLS_VERIFY"), CertPath: get("DOCKER_CERT_PATH"), Home: get("HOME")}
	if l.ContextFlag != "" && l.HostFlag != "" {
		return Env{}, errors.New("--host and --context both name a daemon: give one")
	}
	name, from := "", ""
	switch {
	case l.ContextFlag != "":
		name, from = l.ContextFlag, "--context"
	case l.HostFlag != "":
		env.Host, env.From = l.HostFlag, "--host"
		return env, nil
	case get("DOCKER_HOST") != "":
		env.Host, env.From = get("DOCKER_HOST"), "DOCKER_HOST"
		return env, nil
	case get("DOCKER_CONTEXT") != "":
		name, from = get("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	default:
		cur, err := currentContext(l.ConfigDir)
		if err != nil {
			// The docker CLI warns and goes on with the default context; so does this,
			// and the report says so.
			env.Note = err.Error() + ": the default context was assumed, as the docker CLI does"
			env.From = "the default socket"
			return env, nil
		}
		name, from = cur, "the current context in "+filepath.Join(l.ConfigDir, "config.json")
	}
	if name == "" || name == DefaultContext {
		// The default context is DOCKER_HOST (and its TLS variables) when set, as in
		// the docker CLI; else the default socket.
		env.Host = get("DOCKER_HOST")
		env.Context = name
		env.From = from
		if name == "" {
			env.From = "the default socket"
		}
		return env, nil
	}
	return readContext(l.ConfigDir, name, from, env.Home)
}

// currentContext is config.json's currentContext, "" when there is no config.json.
// A config.json that exists but cannot be read or parsed is an error the caller turns
// into a note.
func currentContext(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	p := filepath.Join(dir, "config.json")
	b, err := safefile.Read(p, maxContextFile)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("the docker CLI configuration cannot be read (%w)", err)
	}
	var c struct {
		CurrentContext string `json:"currentContext"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return "", fmt.Errorf("the docker CLI configuration %s does not parse (%v)", p, err)
	}
	return c.CurrentContext, nil
}

// contextDigest is the directory name the CLI keeps a context under.
func contextDigest(name string) string {
	d := sha256.Sum256([]byte(name))
	return hex.EncodeToString(d[:])
}

func readContext(dir, name, from, home string) (Env, error) {
	if !contextName.MatchString(name) {
		return Env{}, fmt.Errorf("context %q (from %s) is not a valid context name", name, from)
	}
	if dir == "" {
		return Env{}, fmt.Errorf("context %q (from %s): no docker configuration directory (set DOCKER_CONFIG or HOME)", name, from)
	}
	digest := contextDigest(name)
	p := filepath.Join(dir, "contexts", "meta", digest, "meta.json")
	b, err := safefile.Read(p, maxContextFile)
	if errors.Is(err, os.ErrNotExist) {
		return Env{}, fmt.Errorf("context %q (from %s) does not exist in %s (docker context ls lists them)", name, from, filepath.Join(dir, "contexts"))
	}
	if err != nil {
		return Env{}, fmt.Errorf("context %q (from %s): %w", name, from, err)
	}
	var meta struct {
		Name      string
		Endpoints map[string]struct {
			Host          string
			SkipTLSVerify bool
		}
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return Env{}, fmt.Errorf("context %q (from %s): %s: %v", name, from, p, err)
	}
	ep, ok := meta.Endpoints["docker"]
	if !ok || ep.Host == "" {
		return Env{}, fmt.Errorf("context %q (from %s) has no docker endpoint (%s)", name, from, p)
	}
	return Env{
		Host: ep.Host, Home: home, Context: name, From: from,
		ContextTLS: &ContextTLS{Dir: filepath.Join(dir, "contexts", "tls", digest, "docker"), SkipVerify: ep.SkipTLSVerify},
	}, nil
}
