package engine

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// DefaultHost is the daemon address when DOCKER_HOST is not set.
const DefaultHost = "unix:///var/run/docker.sock"

// maxAPIVersion is the newest Engine API version whose responses this client knows.
// Older daemons are spoken to in their own version.
const maxAPIVersion = "1.47"

// maxBody bounds any single response: /info and inspect bodies are kilobytes.
const maxBody = 64 << 20

// Env is the part of the environment that selects and secures the daemon connection,
// as the docker CLI reads it.
type Env struct {
	Host      string // DOCKER_HOST
	TLSVerify string // DOCKER_TLS_VERIFY
	CertPath  string // DOCKER_CERT_PATH
	Home      string // for the default cert path ~/.docker

	// Context is the docker CLI context the address came from ("" for none,
	// "default" when named); From says what chose it (--host, DOCKER_HOST,
	// DOCKER_CONTEXT, --context, the current context in config.json).
	Context, From string
	// ContextTLS is a named context's TLS material; DOCKER_TLS_VERIFY and
	// DOCKER_CERT_PATH do not apply to a named context, as in the docker CLI.
	ContextTLS *ContextTLS
	// Note says what the resolution had to assume (an unreadable config.json).
	Note string
}

// EnvFromOS reads Env from the process environment.
func EnvFromOS() Env {
	home, _ := os.UserHomeDir()
	return Env{
		Host:      os.Getenv("DOCKER_HOST"),
		TLSVerify: os.Getenv("DOCKER_TLS_VERIFY"),
		CertPath:  os.Getenv("DOCKER_CERT_PATH"),
		Home:      home,
	}
}

var apiVersionRE = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}$`)

// Client is a read-only Engine API client: it only issues GET requests, except
// through Runner, which dockaudit seccomp record alone uses.
type Client struct {
	// Host is the daemon address in URL form (unix:///path, tcp://host:port).
	Host string
	// SocketPath is set for unix hosts.
	SocketPath string
	// TLS reports whether the connection uses TLS.
	TLS bool

	http    *http.Client
	base    string // scheme://authority for requests
	version string // negotiated API version, "" before Negotiate
	maxBody int64  // 0: maxBody (tests lower it)
}

// New builds a client for env. It does not connect.
func New(env Env) (*Client, error) {
	host := env.Host
	what := "DOCKER_HOST" // where the address came from, for errors
	// An address that does not parse is quoted in errors: never its password, never
	// megabytes of it.
	quoted := quoteAddr(host)
	switch {
	case env.Context != "" && env.Context != DefaultContext:
		what = fmt.Sprintf("context %q: endpoint", env.Context)
	case env.From == "--host":
		what = "--host"
	}
	if host == "" {
		host = DefaultHost
	}
	if !strings.Contains(host, "://") {
		host = "tcp://" + host // the docker CLI reads a bare host:port as TCP
	}
	u, err := url.Parse(host)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("%s %s is not an address like unix:///var/run/docker.sock or tcp://host:2376", what, quoted)
	}
	if u.User != nil && u.Scheme != "ssh" {
		// The docker CLI sends no credentials over tcp://; never echo them either.
		return nil, fmt.Errorf("%s holds a user name or password, which the Engine API does not take: remove it (use TLS client certificates)", what)
	}
	c := &Client{Host: host}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" {
			return nil, fmt.Errorf("%s %s has no socket path", what, quoted)
		}
		c.SocketPath = u.Path
		c.base = "http://docker"
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", c.SocketPath)
		}
	case "tcp", "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("%s %s has no host:port", what, quoted)
		}
		hostport := u.Host
		if u.Port() == "" {
			port := "2375"
			if env.TLSVerify != "" || env.CertPath != "" || u.Scheme == "https" || env.ContextTLS.has() {
				port = "2376"
			}
			hostport = net.JoinHostPort(u.Hostname(), port)
		}
		tlsConf, err := tlsConfig(env, u.Scheme == "https")
		if err != nil {
			return nil, err
		}
		scheme := "http"
		if tlsConf != nil {
			scheme = "https"
			tr.TLSClientConfig = tlsConf
			c.TLS = true
		}
		c.base = scheme + "://" + hostport
	case "ssh":
		args, err := sshArgs(u)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", what, u.Redacted(), err)
		}
		c.base = "http://docker"
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) { return dialSSH(ctx, args) }
		// Each connection is an ssh session: sshd drops unauthenticated ones past
		// MaxStartups (10 by default), so at most 4 at once.
		tr.MaxIdleConnsPerHost = 4
		tr.MaxConnsPerHost = 4
	case "npipe", "fd":
		return nil, fmt.Errorf("%s %s: the %s:// transport is not supported; use unix:// or tcp://", what, quoted, u.Scheme)
	default:
		return nil, fmt.Errorf("%s %s: unknown scheme %q", what, quoted, u.Scheme)
	}
	c.http = &http.Client{Transport: tr}
	return c, nil
}

// quoteAddr quotes an address for an error: the user information before an "@" is
// masked and the whole is cut at 200 characters.
func quoteAddr(addr string) string {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		scheme, rest = "", addr
	} else {
		scheme += "://"
	}
	auth, path, slash := strings.Cut(rest, "/")
	if j := strings.LastIndex(auth, "@"); j >= 0 {
		addr = scheme + "xxxxx" + auth[j:]
		if slash {
			addr += "/" + path
		}
	}
	if r := []rune(addr); len(r) > 200 {
		addr = string(r[:200]) + "…"
	}
	return strconv.Quote(addr)
}

// has reports whether a context holds TLS material (or asks for TLS without
// verification).
func (t *ContextTLS) has() bool {
	if t == nil {
		return false
	}
	if t.SkipVerify {
		return true
	}
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		if _, err := os.Stat(filepath.Join(t.Dir, f)); err == nil {
			return true
		}
	}
	return false
}

// contextTLSConfig is a named context's TLS: its CA (verified unless the context says
// SkipTLSVerify) and client certificate, as the docker CLI builds it; nil when the
// context has no TLS material (plain tcp://).
func contextTLSConfig(t *ContextTLS, https bool) (*tls.Config, error) {
	if !t.has() && !https {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.SkipVerify} // #nosec G402 -- the context's own SkipTLSVerify
	caFile := filepath.Join(t.Dir, "ca.pem")
	if ca, err := safefile.PEM(caFile); err == nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		conf.RootCAs = pool
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the context's CA certificate: %w", err)
	}
	certFile, keyFile := filepath.Join(t.Dir, "cert.pem"), filepath.Join(t.Dir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		pair, err := safefile.KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load the context's client certificate from %s: %w", t.Dir, err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

// tlsConfig follows the docker CLI: DOCKER_TLS_VERIFY set means TLS with server
// verification; DOCKER_CERT_PATH alone means TLS without verifying the server.
func tlsConfig(env Env, https bool) (*tls.Config, error) {
	if env.ContextTLS != nil {
		return contextTLSConfig(env.ContextTLS, https)
	}
	verify := env.TLSVerify != ""
	if !verify && env.CertPath == "" && !https {
		return nil, nil
	}
	dir := env.CertPath
	if dir == "" {
		dir = filepath.Join(env.Home, ".docker")
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !verify} // #nosec G402 -- the docker CLI's own rule: DOCKER_TLS_VERIFY unset means no verification
	if ca, err := safefile.PEM(filepath.Join(dir, "ca.pem")); err == nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%s holds no PEM certificate", filepath.Join(dir, "ca.pem"))
		}
		conf.RootCAs = pool
	} else if verify {
		return nil, fmt.Errorf("DOCKER_TLS_VERIFY is set but the CA certificate cannot be read: %w", err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		pair, err := safefile.KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate from %s: %w", dir, err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

// get issues one GET; transport failures come back as connErr.
func (c *Client) get(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.connErr(err)
	}
	return resp, nil
}

// Negotiate pings the daemon and settles the API version to speak.
func (c *Client) Negotiate(ctx context.Context) error {
	resp, err := c.get(ctx, c.base+"/_ping")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		return fmt.Errorf("daemon at %s answered /_ping with %s: %s", c.Host, resp.Status, firstLine(msg))
	}
	v := resp.Header.Get("Api-Version")
	if v == "" {
		v = "1.24"
	}
	if !apiVersionRE.MatchString(v) {
		return fmt.Errorf("daemon at %s answered /_ping with API version %q, which is not MAJOR.MINOR", c.Host, firstLine(v))
	}
	if facts.VersionLess(maxAPIVersion, v) {
		v = maxAPIVersion
	}
	c.version = v
	return nil
}

// APIVersion is the negotiated version.
func (c *Client) APIVersion() string { return c.version }

func (c *Client) connErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("cannot reach the Docker daemon at %s: no answer before the timeout", c.Host)
	}
	return fmt.Errorf("cannot reach the Docker daemon at %s: %v", c.Host, err)
}

// StatusError is a non-2xx answer from the daemon.
type StatusError struct {
	Method  string // "" for GET
	Path    string
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	m := e.Method
	if m == "" {
		m = http.MethodGet
	}
	return fmt.Sprintf("%s %s: %d %s", m, e.Path, e.Code, e.Message)
}

// IsNotFound reports whether err is the daemon saying the object does not exist.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// Get fetches an API path and decodes the JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) error {
	if c.version == "" {
		return errors.New("engine client: Negotiate was not called")
	}
	u := c.base + "/v" + c.version + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	resp, err := c.get(ctx, u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return statusError(path, resp)
	}
	limit := cmp.Or(c.maxBody, maxBody)
	body := &capped{r: resp.Body, left: limit}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		if body.over {
			return fmt.Errorf("GET %s: the answer is larger than %s, more than dockaudit reads of one answer", path, safefile.Size(limit))
		}
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// capped reads at most left bytes and then fails, remembering that it was cut.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

var errCapped = errors.New("answer too large")

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.over = true
		return 0, errCapped
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// Stream issues a GET and returns the body for the caller to read and close (image
// export). Errors are decoded as for Get.
func (c *Client) Stream(ctx context.Context, path string) (io.ReadCloser, error) {
	if c.version == "" {
		return nil, errors.New("engine client: Negotiate was not called")
	}
	resp, err := c.get(ctx, c.base+"/v"+c.version+path)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, statusError(path, resp)
	}
	return resp.Body, nil
}

// statusError decodes the daemon's error message from a non-2xx answer.
func statusError(path string, resp *http.Response) error {
	var m struct{ Message string }
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
	if json.Unmarshal(b, &m) != nil || m.Message == "" {
		m.Message = firstLine(strings.TrimSpace(string(b)))
	}
	return &StatusError{Path: path, Code: resp.StatusCode, Message: m.Message}
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func firstLine(s string) string { return textsafe.FirstLine(s, 200) }
