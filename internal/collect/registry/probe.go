package registry

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
	Timeout   time.Duration
	TLS       endpoint.Options
}

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
func Probe(ctx context.Context, raw string, o ProbeOptions) facts.Registry {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	u, err := ProbeURL(raw)
	if err != nil {
		return facts.Registry{URL: raw, Error: err.Error()}
	}
	base := u.Scheme + "://" + u.Host
	r := facts.Registry{URL: base}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), map[string]string{"https": "443", "http": "80"}[u.Scheme])
	}
	if u.Scheme == "https" {
		t, notTLS, err := endpoint.ProbeTLS(ctx, hostport, o.TLS)
		switch {
		case err != nil:
			r.Error = err.Error()
			return r
		case notTLS:
			r.Error = "the server does not speak TLS on " + hostport + " (try http://" + u.Host + ")"
			return r
		}
		r.TLS = t
	}
	p := &prober{base: base, hc: &http.Client{Timeout: o.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}} // #nosec G402 -- TLS is judged by the probe above
	resp, err := p.do(ctx, http.MethodGet, "/v2/", "")
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.V2Status = resp.StatusCode
	r.APIHeader = resp.Header.Get("Docker-Distribution-Api-Version")
	scheme, params := ParseChallenge(resp.Header.Get("WWW-Authenticate"))
	r.AuthScheme, r.AuthRealm = scheme, params["realm"]
	if r.AuthRealm == "" && scheme != "" {
		r.AuthRealm = "(none)"
	}
	r.Anonymous = p.access(ctx, &o, "")
	r.Repository = o.Repository
	if r.Repository == "" {
		r.Repository = "dockaudit/probe"
		if len(r.Anonymous.Repositories) > 0 {
			r.Repository = r.Anonymous.Repositories[0]
		}
	}
	o.Repository = r.Repository
	r.Anonymous = p.access(ctx, &o, "")
	if resp, err := p.do(ctx, http.MethodDelete, "/v2/"+r.Repository+"/manifests/sha256:"+strings.Repeat("0", 64), ""); err == nil {
		r.DeleteStatus = resp.StatusCode
	}
	if o.Credential != nil && scheme != "" {
		auth, err := p.authorize(ctx, scheme, params, r.Repository, *o.Credential)
		if err != nil {
			r.Error = "credentials: " + err.Error()
			return r
		}
		a := p.access(ctx, &o, auth)
		r.Authenticated, r.Identity = &a, o.Credential.Username
		if r.DeleteStatus == 401 || r.DeleteStatus == 403 {
			if resp, err := p.do(ctx, http.MethodDelete, "/v2/"+r.Repository+"/manifests/sha256:"+strings.Repeat("0", 64), auth); err == nil {
				r.DeleteStatus = resp.StatusCode
			}
		}
	}
	return r
}

type prober struct {
	base string
	hc   *http.Client
}

func (p *prober) do(ctx context.Context, method, path, auth string, accept ...string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, nil)
	if err != nil {
		return nil, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	}
	req.Header.Set("User-Agent", "dockaudit")
	resp, err := p.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if ok := asURLError(err, &ue); ok {
			err = ue.Err
		}
		return nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}

func asURLError(err error, target **url.Error) bool {
	ue, ok := err.(*url.Error)
	if ok {
		*target = ue
	}
	return ok
}

// access probes catalog, pull and (when asked) push with one Authorization value.
func (p *prober) access(ctx context.Context, o *ProbeOptions, auth string) facts.RegistryAccess {
	var a facts.RegistryAccess
	if repos, ok := p.catalog(ctx, auth); ok {
		a.Catalog, a.Repositories = true, repos
	}
	if o.Repository == "" {
		return a
	}
	var tags struct{ Tags []string }
	if status, body := p.get(ctx, "/v2/"+o.Repository+"/tags/list", auth); status == 200 {
		json.Unmarshal(body, &tags)
		if len(tags.Tags) > 0 {
			a.PullTried = true
			resp, err := p.do(ctx, http.MethodGet, "/v2/"+o.Repository+"/manifests/"+tags.Tags[0], auth, manifestTypes...)
			a.Pull = err == nil && resp.StatusCode == 200
		}
	} else if status == 401 || status == 403 {
		a.PullTried = true
	}
	if o.ProbePush {
		a.PushTried = true
		resp, err := p.do(ctx, http.MethodPost, "/v2/"+o.Repository+"/blobs/uploads/", auth)
		if err == nil && resp.StatusCode == http.StatusAccepted {
			a.Push = true
			if loc := resp.Header.Get("Location"); loc != "" {
				if lu, err := url.Parse(loc); err == nil {
					path := lu.RequestURI()
					p.do(ctx, http.MethodDelete, path, auth) // cancel the session: nothing is written
				}
			}
		}
	}
	return a
}

func (p *prober) get(ctx context.Context, path, auth string) (int, []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return 0, nil
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

func (p *prober) catalog(ctx context.Context, auth string) ([]string, bool) {
	status, body := p.get(ctx, "/v2/_catalog?n=20", auth)
	if status != 200 {
		return nil, false
	}
	var c struct{ Repositories []string }
	if json.Unmarshal(body, &c) != nil {
		return nil, false
	}
	return c.Repositories, true
}

// authorize turns a credential into an Authorization value for the challenge: Basic
// as it is, Bearer through the token realm with the repository's pull and push scope.
func (p *prober) authorize(ctx context.Context, scheme string, params map[string]string, repo string, cred Credential) (string, error) {
	if strings.EqualFold(scheme, "basic") {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(cred.Username, cred.Password)
		return req.Header.Get("Authorization"), nil
	}
	realm := params["realm"]
	if realm == "" {
		return "", fmt.Errorf("the %s challenge has no realm", scheme)
	}
	q := url.Values{}
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	q.Add("scope", "repository:"+repo+":pull,push")
	q.Add("scope", "registry:catalog:*")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm+"?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(cred.Username, cred.Password)
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("token realm %s: %s", realm, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return "", err
	}
	t := tok.Token
	if t == "" {
		t = tok.AccessToken
	}
	return "Bearer " + t, nil
}
