package registry

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/collect/endpoint"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// ProbeOptions say how to probe a registry.
type ProbeOptions struct {
	// Repository is used for the pull, delete and push probes; default: the first the
	// catalog lists, else "dockaudit/probe" (which need not exist).
	Repository string
	// Credential, when set, is probed too: what that identity can do.
	Credential *Credential
	// ProbePush opens an upload session and cancels it (writes nothing).
	ProbePush bool
	// Insecure allows a credential over plain HTTP to a registry that is not on
	// loopback (as dockerd's insecure-registries does); without it, http:// gets
	// anonymous probes only there.
	Insecure bool
	// Timeout bounds the whole probe of the registry: every dial, handshake, request
	// and body together (default 10s).
	Timeout time.Duration
	TLS     endpoint.Options
}

// maxAnswer bounds one answer's body; real catalogs, tag lists and tokens are small.
const maxAnswer = 1 << 20

// maxRepositories bounds the catalog a report quotes.
const maxRepositories = 20

// ProbeURL reads https://host[:port], http://host[:port] or host[:port] (HTTPS).
func ProbeURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%q is not a registry address like https://registry.example:5000 or localhost:5000", raw)
	}
	return u, nil
}

// Probe probes a registry as an anonymous client (and with the credential, if any).
// Nothing is written: the delete probe names an all-zero digest, and the push probe
// only opens an upload session, which it cancels.
//
// Anonymous requests accept any certificate (TLS is judged by its own probe); a
// credential only goes to the registry and its token realm over a transport at least
// as strong as the URL the user gave: verified HTTPS (against --tlscacert, else the
// system roots) for an https:// registry, never plain HTTP to a realm unless the
// registry itself was named with http:// and the realm is on its host.
func Probe(ctx context.Context, raw string, o ProbeOptions) facts.Registry {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	u, err := ProbeURL(raw)
	if err != nil {
		return facts.Registry{URL: raw, Error: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	base := u.Scheme + "://" + u.Host
	r := facts.Registry{URL: base}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), map[string]string{"https": "443", "http": "80"}[u.Scheme])
	}
	p := newProber(u, o)
	if u.Scheme == "https" {
		if o.TLS.Timeout <= 0 || o.TLS.Timeout > o.Timeout {
			o.TLS.Timeout = o.Timeout
		}
		t, notTLS, err := endpoint.ProbeTLS(ctx, hostport, o.TLS)
		switch {
		case err != nil:
			r.Error = p.explain(ctx, err)
			return r
		case notTLS:
			r.Error = "the server does not speak TLS on " + hostport + " (try http://" + u.Host + ")"
			return r
		}
		r.TLS = t
	}
	ans := p.send(ctx, p.anon, http.MethodGet, "/v2/", "")
	if ans.err != nil {
		r.Error = "GET /v2/: " + p.explain(ctx, ans.err)
		return r
	}
	r.V2Status = ans.status
	r.APIHeader = ans.header.Get("Docker-Distribution-Api-Version")
	scheme, params := ParseChallenge(ans.header.Get("WWW-Authenticate"))
	r.AuthScheme, r.AuthRealm = scheme, params["realm"]
	if r.AuthRealm == "" && scheme != "" {
		r.AuthRealm = "(none)"
	}
	bearer := strings.EqualFold(scheme, "bearer")
	// A Bearer registry may grant anonymous pulls through an anonymous token (Docker
	// Hub, public Harbor projects): ask for one, as a client would. No secret goes
	// with it, so the realm's transport does not matter here.
	anon := ""
	if bearer {
		anon, _ = fetchToken(ctx, p.anon, u.Host, params, []string{"registry:catalog:*"}, Credential{})
	}
	r.Repository = o.Repository
	if r.Repository == "" {
		r.Repository = "dockaudit/probe"
		if c := p.catalog(ctx, p.anon, anon); len(c.Repositories) > 0 {
			r.Repository = c.Repositories[0]
		}
	}
	o.Repository = r.Repository
	if bearer {
		anon, _ = fetchToken(ctx, p.anon, u.Host, params, []string{"repository:" + r.Repository + ":pull,push", "registry:catalog:*"}, Credential{})
	}
	r.Anonymous = p.access(ctx, p.anon, &o, anon)
	deletePath := "/v2/" + r.Repository + "/manifests/sha256:" + strings.Repeat("0", 64)
	if d := p.send(ctx, p.anon, http.MethodDelete, deletePath, anon); d.err == nil {
		r.DeleteStatus = d.status
	} else {
		r.DeleteError = p.explain(ctx, d.err)
	}
	if o.Credential != nil && scheme != "" {
		r.Identity = o.Credential.Username
		if u.Scheme == "http" && !Loopback(u.Host) && !o.Insecure {
			r.AuthError = "the registry is plain HTTP and not on loopback: the password would cross the network in clear, so it was not sent (--insecure to send it anyway)"
			return r
		}
		auth, err := p.authorize(ctx, scheme, params, r.Repository, *o.Credential)
		if err != nil {
			r.AuthError = p.explain(ctx, err)
			return r
		}
		a := p.access(ctx, p.verified, &o, auth)
		r.Authenticated = &a
		if r.DeleteStatus == 401 || r.DeleteStatus == 403 {
			if d := p.send(ctx, p.verified, http.MethodDelete, deletePath, auth); d.err == nil {
				r.DeleteStatus = d.status
			}
		}
	}
	if err := ctx.Err(); err != nil {
		r.Error = p.explain(ctx, err)
	}
	return r
}

type prober struct {
	base    string
	scheme  string // the registry's, as the user named it
	host    string
	timeout time.Duration
	// anon reads whatever certificate the server has (TLS is judged by its own probe);
	// verified is for requests that carry a credential.
	anon, verified *http.Client
}

func newProber(u *url.URL, o ProbeOptions) *prober {
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &prober{
		base: u.Scheme + "://" + u.Host, scheme: u.Scheme, host: u.Host, timeout: o.Timeout,
		anon: &http.Client{Timeout: o.Timeout, CheckRedirect: noRedirect,
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}, // #nosec G402 -- judged by the TLS probe
		verified: &http.Client{Timeout: o.Timeout, CheckRedirect: noRedirect,
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: o.TLS.Roots, MinVersion: tls.VersionTLS12}}},
	}
}

// answer is one request's outcome: a status, headers and at most maxAnswer bytes of
// body, or why there is none (err also when the body was cut short or too large).
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (p *prober) send(ctx context.Context, hc *http.Client, method, path, auth string, accept ...string) answer {
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, nil)
	if err != nil {
		return answer{err: err}
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	}
	req.Header.Set("User-Agent", "dockaudit")
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	switch {
	case err != nil:
		a.err = fmt.Errorf("%d answer cut short: %w", resp.StatusCode, err)
	case len(a.body) > maxAnswer:
		a.err = fmt.Errorf("%d answer larger than %d bytes", resp.StatusCode, maxAnswer)
	}
	return a
}

// explain words an error, saying so when the probe ran out of time.
func (p *prober) explain(ctx context.Context, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no complete answer within --timeout %s (it bounds the whole probe)", p.timeout)
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no complete answer within --timeout %s", p.timeout)
	}
	return firstLine(err.Error())
}

// access probes catalog, pull and (when asked) push with one Authorization value.
func (p *prober) access(ctx context.Context, hc *http.Client, o *ProbeOptions, auth string) facts.RegistryAccess {
	a := p.catalog(ctx, hc, auth)
	if o.Repository == "" {
		return a
	}
	// Pull: a manifest read is access, and only a 401 or 403 is a refusal; anything
	// else is kept as what happened. The tag comes from the tag list, else "latest".
	var tags struct{ Tags []string }
	tag := "latest"
	t := p.send(ctx, hc, http.MethodGet, "/v2/"+o.Repository+"/tags/list", auth)
	if t.err == nil && t.status == 200 && json.Unmarshal(t.body, &tags) == nil && len(tags.Tags) > 0 {
		tag = tags.Tags[0]
	}
	m := p.send(ctx, hc, http.MethodGet, "/v2/"+o.Repository+"/manifests/"+url.PathEscape(tag), auth, manifestTypes...)
	a.PullTried, a.PullStatus = true, m.status
	switch {
	case m.err != nil:
		a.PullError = p.explain(ctx, m.err)
	case m.status == 200:
		a.Pull = true
	case t.err == nil && (t.status == 401 || t.status == 403) && m.status == 404:
		a.PullStatus = t.status // the tags were refused; the guessed tag is not there
	}
	if o.ProbePush {
		a.PushTried = true
		up := p.send(ctx, hc, http.MethodPost, "/v2/"+o.Repository+"/blobs/uploads/", auth)
		a.PushStatus = up.status
		if up.status == http.StatusAccepted {
			a.Push = true
			// Cancel the session: nothing is written. The Location is resolved against
			// the registry and followed only when it stays there, so the request (and
			// its credential) never goes to another host.
			if lu, err := url.Parse(up.header.Get("Location")); err == nil {
				base, _ := url.Parse(p.base + "/")
				if to := base.ResolveReference(lu); to.Scheme == base.Scheme && to.Host == base.Host && to.User == nil {
					p.send(ctx, hc, http.MethodDelete, to.RequestURI(), auth)
				} else {
					a.PushError = "the upload session could not be cancelled: its Location points elsewhere (" + firstLine(up.header.Get("Location")) + ")"
				}
			}
		} else if up.err != nil {
			a.PushError = p.explain(ctx, up.err)
		}
	}
	return a
}

// catalog asks for the first repositories of the catalog. Only a 200 with a catalog in
// it is read access, and only a 401 or 403 is a refusal: anything else is kept as what
// happened, for the rule to report.
func (p *prober) catalog(ctx context.Context, hc *http.Client, auth string) facts.RegistryAccess {
	var a facts.RegistryAccess
	c := p.send(ctx, hc, http.MethodGet, "/v2/_catalog?n="+strconv.Itoa(maxRepositories), auth)
	a.CatalogStatus = c.status
	switch {
	case c.err != nil:
		a.CatalogError = p.explain(ctx, c.err)
	case c.status == 200:
		var cat struct {
			Repositories *[]string `json:"repositories"`
		}
		if json.Unmarshal(c.body, &cat) != nil || cat.Repositories == nil {
			a.CatalogError = "answered 200 with something that is not a catalog"
			break
		}
		a.Catalog = true
		a.Repositories = (*cat.Repositories)[:min(len(*cat.Repositories), maxRepositories)]
	case c.status >= 300 && c.status < 400:
		if loc := c.header.Get("Location"); loc != "" {
			a.CatalogError = fmt.Sprintf("answered %d to %s, which was not followed", c.status, firstLine(loc))
		}
	}
	return a
}

// authorize turns a credential into an Authorization value for the challenge: Basic
// as it is, Bearer through the token realm with the repository's pull and push scope.
// The password goes only over a transport as strong as the registry's URL (see
// realmTransport); over HTTPS the certificate must verify.
func (p *prober) authorize(ctx context.Context, scheme string, params map[string]string, repo string, cred Credential) (string, error) {
	if cred.IdentityToken != "" && cred.Username == "" {
		return "", errors.New("the credential is an identity token, which dockaudit does not exchange; give a username and password")
	}
	switch strings.ToLower(scheme) {
	case "basic":
		// The handshake verifies the certificate before the password is sent.
		auth := basicAuth(cred)
		v := p.send(ctx, p.verified, http.MethodGet, "/v2/", auth)
		switch {
		case v.err != nil:
			return "", fmt.Errorf("the password was not sent: %w", v.err)
		case v.status == 401 || v.status == 403:
			return "", fmt.Errorf("the registry refused the credentials of %s (%d)", cred.Username, v.status)
		}
		return auth, nil
	case "bearer":
		if _, err := realmTransport(p.scheme, p.host, params["realm"]); err != nil {
			return "", err
		}
		return fetchToken(ctx, p.verified, p.host, params, []string{"repository:" + repo + ":pull,push", "registry:catalog:*"}, cred)
	}
	return "", fmt.Errorf("the registry asks for %q authentication, which dockaudit does not speak", firstLine(scheme))
}
