package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// maxManifest bounds a manifest or index; real ones are kilobytes.
const maxManifest = 4 << 20

var manifestTypes = []string{
	string(types.OCIImageIndex), string(types.DockerManifestList),
	string(types.OCIManifestSchema1), string(types.DockerManifestSchema2),
}

// Client talks to registries.
type Client struct {
	// Insecure allows plain HTTP (and unverified TLS) for every registry.
	Insecure bool
	// Credentials returns the credentials for a registry host, or empty ones.
	Credentials func(host string) (Credential, error)

	once   sync.Once
	http   *http.Client
	strict *http.Client // verifies certificates even with Insecure
	mu     sync.Mutex
	tok    map[string]string // scope key → bearer token
	// schemes remembers, per registry host that may be plain HTTP, which scheme answered.
	schemes map[string]string
}

// Credential is a username and password, or an identity token.
type Credential struct {
	Username, Password, IdentityToken string
}

func (c *Client) client() *http.Client {
	c.once.Do(func() {
		tr := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			MaxIdleConnsPerHost:   8,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.Insecure}, // #nosec G402 -- --insecure says so
		}
		c.http = &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			req.Header.Del("Authorization") // blob redirects go to storage that must not see our token
			return nil
		}}
		c.strict = c.http
		if c.Insecure {
			strict := tr.Clone()
			strict.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			c.strict = &http.Client{Transport: strict, CheckRedirect: c.http.CheckRedirect}
		}
		c.tok = map[string]string{}
		c.schemes = map[string]string{}
	})
	return c.http
}

// verifiedClient is client() with certificates always verified: for passwords sent to
// a token realm on another host, which --insecure does not cover.
func (c *Client) verifiedClient() *http.Client {
	c.client()
	return c.strict
}

// Error is an answer the registry gave that is not what was asked for.
type Error struct {
	URL    string
	Status int
	Body   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.URL, e.Status, e.Body)
}

func (c *Client) base(ctx context.Context, r name.Repository) string {
	host := r.RegistryStr()
	if host == name.DefaultRegistry {
		host = "registry-1.docker.io"
	}
	return c.scheme(ctx, host) + "://" + host + "/v2/" + r.RepositoryStr()
}

// scheme decides how to reach a registry as dockerd does: HTTPS, except that a
// loopback registry, or any with --insecure, falls back to plain HTTP when HTTPS does
// not answer. (go-containerregistry would also take private RFC 1918 addresses as
// plain HTTP; dockerd does not, and neither does dockaudit.)
func (c *Client) scheme(ctx context.Context, host string) string {
	if !c.Insecure && !Loopback(host) {
		return "https"
	}
	hc := c.client()
	c.mu.Lock()
	s, ok := c.schemes[host]
	c.mu.Unlock()
	if ok {
		return s
	}
	s = "http"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/v2/", nil)
	if err == nil {
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			s = "https"
		}
	}
	c.mu.Lock()
	c.schemes[host] = s
	c.mu.Unlock()
	return s
}

// Loopback reports a host (with or without a port) on this machine: localhost,
// 127.0.0.0/8 or ::1.
func Loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// get issues an authenticated GET for repo, answering one authentication challenge.
func (c *Client) get(ctx context.Context, repo name.Repository, u string, accept []string) (*http.Response, error) {
	return c.getScoped(ctx, repo.RegistryStr(), "repository:"+repo.RepositoryStr()+":pull", u, accept)
}

// getScoped is get for a registry host and a token scope ("registry:catalog:*").
func (c *Client) getScoped(ctx context.Context, host, scope, u string, accept []string) (*http.Response, error) {
	hc := c.client()
	do := func(auth string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		if len(accept) > 0 {
			req.Header.Set("Accept", strings.Join(accept, ", "))
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("User-Agent", "dockaudit")
		return hc.Do(req)
	}
	c.mu.Lock()
	auth := c.tok[host+" "+scope]
	c.mu.Unlock()
	resp, err := do(auth)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	resp.Body.Close()
	if from := resp.Request.URL; from.Host != req0Host(u) {
		// A redirect (blob storage) asked for credentials: only the registry may say
		// where they go.
		return nil, fmt.Errorf("GET %s: redirected to %s, which answered 401; credentials go only to the registry itself", u, from.Redacted())
	}
	auth, err = c.authorize(ctx, host, challenge, scope)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.tok[host+" "+scope] = auth
	c.mu.Unlock()
	return do(auth)
}

// req0Host is the host a request URL names.
func req0Host(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return pu.Host
}

// authorize answers a WWW-Authenticate challenge with an Authorization header value.
func (c *Client) authorize(ctx context.Context, host, challenge, scope string) (string, error) {
	scheme, params := ParseChallenge(challenge)
	var cred Credential
	if c.Credentials != nil {
		var err error
		if cred, err = c.Credentials(host); err != nil {
			return "", fmt.Errorf("credentials for %s: %w", host, err)
		}
	}
	if cred.IdentityToken != "" && cred.Username == "" {
		return "", fmt.Errorf("the credentials for %s are an identity token, which dockaudit does not exchange; configure a username and password or a credential helper", host)
	}
	switch strings.ToLower(scheme) {
	case "basic":
		if cred.Username == "" {
			return "", fmt.Errorf("%s asks for a username and password, and none is configured (docker login %s)", host, host)
		}
		return basicAuth(cred), nil
	case "bearer":
		if s := params["scope"]; s != "" {
			scope = s
		}
		hc := c.client()
		if cred.Username != "" {
			// The password goes to the realm: never over a weaker transport than the
			// registry's own.
			otherHost, err := realmTransport(c.scheme(ctx, host), host, params["realm"])
			if err != nil {
				return "", fmt.Errorf("%s: %w", host, err)
			}
			if otherHost {
				hc = c.verifiedClient()
			}
		}
		return fetchToken(ctx, hc, host, params, []string{scope}, cred)
	}
	return "", fmt.Errorf("%s answered 401 with an authentication scheme dockaudit does not speak: %q", host, firstLine(challenge))
}

func basicAuth(cred Credential) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred.Username+":"+cred.Password))
}

// realmTransport decides whether a password may go to a Bearer challenge's token
// realm, so that it never travels over a weaker transport than the registry's own:
// a realm on the registry's host may use the registry's scheme (plain HTTP only when
// the registry itself is reached over plain HTTP, which dockaudit allows for loopback
// or --insecure registries); a realm on another host (auth.docker.io for Docker Hub)
// must be HTTPS with a certificate that verifies, whatever --insecure says.
// otherHost reports that last case.
func realmTransport(registryScheme, registryHost, realm string) (otherHost bool, err error) {
	ru, err := url.Parse(realm)
	if err != nil || ru.Host == "" || (ru.Scheme != "https" && ru.Scheme != "http") {
		return false, fmt.Errorf("unusable token realm %q: the password was not sent", firstLine(realm))
	}
	rh := registryHost
	if h, _, err := net.SplitHostPort(registryHost); err == nil {
		rh = h
	}
	otherHost = !strings.EqualFold(strings.Trim(rh, "[]"), ru.Hostname())
	switch {
	case ru.Scheme == "https":
		return otherHost, nil
	case registryScheme != "http":
		return false, fmt.Errorf("the token realm %s is plain HTTP while the registry is HTTPS: the password would cross the network in clear, so it was not sent", ru.Redacted())
	case otherHost:
		return false, fmt.Errorf("the token realm %s is plain HTTP on another host than the registry: the password was not sent", ru.Redacted())
	}
	return false, nil
}

// fetchToken asks a challenge's token realm for a bearer token with the scopes, with
// the credential's username and password when it has them.
func fetchToken(ctx context.Context, hc *http.Client, host string, params map[string]string, scopes []string, cred Credential) (string, error) {
	realm := params["realm"]
	ru, err := url.Parse(realm)
	if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") {
		return "", fmt.Errorf("%s gave an unusable token realm %q", host, firstLine(realm))
	}
	q := ru.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	for _, s := range scopes {
		q.Add("scope", s)
	}
	ru.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ru.String(), nil)
	if err != nil {
		return "", err
	}
	if cred.Username != "" {
		req.SetBasicAuth(cred.Username, cred.Password)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("token from %s: %w", ru.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token from %s: %d %s", ru.Host, resp.StatusCode, firstLine(string(body)))
	}
	var t struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return "", fmt.Errorf("token from %s: %w", ru.Host, err)
	}
	tok := t.Token
	if tok == "" {
		tok = t.AccessToken
	}
	if tok == "" {
		return "", fmt.Errorf("token from %s: empty token", ru.Host)
	}
	return "Bearer " + tok, nil
}

// ParseChallenge splits `Bearer realm="https://x",service="y"` into the scheme and
// its parameters.
func ParseChallenge(h string) (string, map[string]string) {
	h = strings.TrimSpace(h)
	scheme, rest := h, ""
	if i := strings.IndexAny(h, " \t"); i >= 0 {
		scheme, rest = h[:i], h[i+1:]
	}
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t,")
		k, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		after = strings.TrimLeft(after, " \t") // realm = "x"
		var v string
		if strings.HasPrefix(after, `"`) {
			end := strings.IndexByte(after[1:], '"')
			if end < 0 {
				v, rest = after[1:], ""
			} else {
				v, rest = after[1:1+end], after[2+end:]
			}
		} else {
			v, rest, _ = strings.Cut(after, ",")
		}
		params[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return scheme, params
}

func firstLine(s string) string { return textsafe.FirstLine(s, 200) }

// manifest fetches a manifest or index by tag or digest, and verifies a digest
// reference against what came back.
func (c *Client) manifest(ctx context.Context, repo name.Repository, ref string) ([]byte, types.MediaType, v1.Hash, error) {
	if strings.Contains(ref, ":") && !strings.HasPrefix(ref, "sha256:") {
		return nil, "", v1.Hash{}, fmt.Errorf("manifest %s: only sha256 digests are verified", ref)
	}
	u := c.base(ctx, repo) + "/manifests/" + ref
	resp, err := c.get(ctx, repo, u, manifestTypes)
	if err != nil {
		return nil, "", v1.Hash{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
	if err != nil {
		return nil, "", v1.Hash{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", v1.Hash{}, &Error{URL: u, Status: resp.StatusCode, Body: firstLine(string(body))}
	}
	if len(body) > maxManifest {
		return nil, "", v1.Hash{}, fmt.Errorf("manifest %s is larger than %d bytes", u, maxManifest)
	}
	sum := sha256.Sum256(body)
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	if strings.HasPrefix(ref, "sha256:") && ref != h.String() {
		return nil, "", v1.Hash{}, fmt.Errorf("manifest %s has digest %s, not the one asked for", u, h)
	}
	mt := types.MediaType(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0]))
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.MediaType != "" {
		mt = types.MediaType(probe.MediaType)
	}
	return body, mt, h, nil
}

// Pull resolves a reference to one image (choosing the platform from an index) and
// returns it with its manifest digest. Layers are fetched when read.
func (c *Client) Pull(ctx context.Context, ref name.Reference, plat v1.Platform) (v1.Image, string, error) {
	img, digest, _, err := c.PullChain(ctx, ref, plat)
	return img, digest, err
}

// PullChain is Pull that also returns the digests of the indexes it went through to
// reach the image, outermost first: each was fetched, hashed and parsed here, and lists
// the next (a signature of one of them covers the image).
func (c *Client) PullChain(ctx context.Context, ref name.Reference, plat v1.Platform) (v1.Image, string, []string, error) {
	repo := ref.Context()
	body, mt, digest, err := c.manifest(ctx, repo, ref.Identifier())
	if err != nil {
		return nil, "", nil, err
	}
	var indexes []string
	for depth := 0; mt.IsIndex(); depth++ {
		indexes = append(indexes, digest.String())
		if depth > 4 {
			return nil, "", nil, errors.New("image indexes nested too deeply")
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
		if err != nil {
			return nil, "", nil, fmt.Errorf("parse index of %s: %w", ref, err)
		}
		var pick *v1.Descriptor
		for i, d := range idx.Manifests {
			if d.Platform != nil && d.Platform.Satisfies(plat) {
				pick = &idx.Manifests[i]
				break
			}
		}
		if pick == nil {
			// An entry without a platform is taken when it is the only such entry, as
			// for an OCI layout (some tools write indexes of one unlabelled image).
			var bare []int
			for i, d := range idx.Manifests {
				if d.Platform == nil {
					bare = append(bare, i)
				}
			}
			if len(bare) == 1 {
				pick = &idx.Manifests[bare[0]]
			}
		}
		if pick == nil {
			var have []string
			for _, d := range idx.Manifests {
				if d.Platform != nil {
					have = append(have, d.Platform.String())
				}
			}
			return nil, "", nil, fmt.Errorf("%s has no image for %s (it has %s); choose one with --platform", ref, plat, strings.Join(have, ", "))
		}
		if body, mt, digest, err = c.manifest(ctx, repo, pick.Digest.String()); err != nil {
			return nil, "", nil, err
		}
	}
	if !mt.IsImage() {
		return nil, "", nil, fmt.Errorf("%s is a %s, not an image manifest", ref, mt)
	}
	// Parsed once: go-containerregistry asks for each layer by digest, and a parse per
	// layer made a manifest of 15,000 layers take minutes.
	m, err := v1.ParseManifest(bytes.NewReader(body))
	if err != nil {
		return nil, "", nil, fmt.Errorf("parse manifest of %s: %w", ref, err)
	}
	r := &remoteImage{c: c, ctx: ctx, repo: repo, manifest: body, mediaType: mt, parsed: m, layers: make(map[v1.Hash]v1.Descriptor, len(m.Layers))}
	for _, l := range m.Layers {
		r.layers[l.Digest] = l
	}
	img, err := partial.CompressedToImage(r)
	return img, digest.String(), indexes, err
}

// remoteImage implements partial.CompressedImageCore over the registry.
type remoteImage struct {
	c         *Client
	ctx       context.Context //nolint:containedctx // ggcr's interfaces take no context
	repo      name.Repository
	manifest  []byte
	mediaType types.MediaType
	parsed    *v1.Manifest
	layers    map[v1.Hash]v1.Descriptor
}

func (r *remoteImage) RawManifest() ([]byte, error)        { return r.manifest, nil }
func (r *remoteImage) MediaType() (types.MediaType, error) { return r.mediaType, nil }

func (r *remoteImage) RawConfigFile() ([]byte, error) {
	rc, err := r.c.blob(r.ctx, r.repo, r.parsed.Config.Digest, maxManifest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (r *remoteImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	if l, ok := r.layers[h]; ok {
		return &remoteLayer{img: r, desc: l}, nil
	}
	return nil, fmt.Errorf("layer %s is not in the manifest", h)
}

type remoteLayer struct {
	img  *remoteImage
	desc v1.Descriptor
}

func (l *remoteLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *remoteLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *remoteLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *remoteLayer) Compressed() (io.ReadCloser, error) {
	return l.img.c.blob(l.img.ctx, l.img.repo, l.desc.Digest, -1)
}

// blob streams a blob and fails at the end if its content does not match the digest.
// max > 0 bounds it.
func (c *Client) blob(ctx context.Context, repo name.Repository, d v1.Hash, max int64) (io.ReadCloser, error) {
	if d.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s: only sha256 digests are verified", d)
	}
	u := c.base(ctx, repo) + "/blobs/" + d.String()
	resp, err := c.get(ctx, repo, u, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
		return nil, &Error{URL: u, Status: resp.StatusCode, Body: firstLine(string(b))}
	}
	var r io.Reader = resp.Body
	if max > 0 {
		r = io.LimitReader(r, max+1)
	}
	return &verifying{r: r, c: resp.Body, h: sha256.New(), want: d.Hex, name: u, max: max}, nil
}

type verifying struct {
	r    io.Reader
	c    io.Closer
	h    hash.Hash
	want string
	name string
	n    int64
	max  int64
}

func (v *verifying) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.max > 0 && v.n > v.max {
		return n, fmt.Errorf("blob %s is larger than %d bytes", v.name, v.max)
	}
	if err == io.EOF {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, fmt.Errorf("blob %s: content has digest sha256:%s", v.name, got)
		}
	}
	return n, err
}

func (v *verifying) Close() error { return v.c.Close() }
