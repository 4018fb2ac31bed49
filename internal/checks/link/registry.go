package link

import (
	"fmt"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func certUntil(t *facts.TLSProbe) string {
	if t.Cert == nil {
		return "(not seen)"
	}
	return t.Cert.NotAfter.Format("2006-01-02")
}

func registryTLS(p *check.Pass) {
	r := p.Registry
	if r.TLS == nil && strings.HasPrefix(r.URL, "https://") {
		p.Skip("TLS was not probed")
		return
	}
	if r.TLS == nil {
		res := p.Fail("the registry is served over plain HTTP", ev("scheme", "http", "https"))
		if strings.Contains(r.URL, "://127.") || strings.Contains(r.URL, "://localhost") {
			res.Sev(finding.Medium)
		}
		return
	}
	versions, vok := versionProblems(p, r.TLS)
	_, cok := cipherProblems(p, r.TLS)
	if r.TLS.Cert != nil {
		CertProblems(p, *r.TLS.Cert, p.Facts.CollectedAt, "server", true)
	}
	if vok && cok && !p.Reported() {
		p.OK(fmt.Sprintf("HTTPS, %s, certificate valid until %s", versions, certUntil(r.TLS)))
	}
}

func anonymousPull(p *check.Pass) {
	r := p.Registry
	a := r.Anonymous
	pull := ev("anonymous manifest GET of "+r.Repository, fmt.Sprint(a.PullStatus), "401")
	// Only a refusal of the pull itself passes: /v2/ asking for credentials says
	// nothing of a repository a token realm opens to anyone.
	switch {
	case a.PullTried && a.Pull:
		p.Fail("anyone can pull "+r.Repository, ev("anonymous manifest GET", "200", "401"))
	case r.V2Status == 200:
		p.Fail("the registry answers /v2/ without credentials: it is open to anonymous clients", ev("GET /v2/", "200", "401 with a challenge"))
	case r.V2Status == 0:
		p.Skip("/v2/ was not probed")
	case r.V2Status != 401:
		p.Warn(fmt.Sprintf("/v2/ answered %d: not a registry as distribution answers", r.V2Status), ev("GET /v2/", fmt.Sprint(r.V2Status), "401"))
	case !a.PullTried:
		p.Skip("the registry asks for credentials (" + orNone(r.AuthScheme) + "); an anonymous pull was not probed")
	case a.PullError != "":
		p.Error("the anonymous pull probe got no answer: "+a.PullError, pull)
	case a.PullStatus == 401 || a.PullStatus == 403:
		p.OK("the registry asks for credentials ("+orNone(r.AuthScheme)+"); an anonymous pull of "+r.Repository+" was refused", pull)
	case a.PullStatus == 404:
		p.Skip("the registry asks for credentials ("+orNone(r.AuthScheme)+"), but "+r.Repository+" has no manifest to pull, so an anonymous pull was not shown refused (name a repository with --repository)", pull)
	default:
		p.Warn(fmt.Sprintf("the anonymous pull of %s answered %d, neither the manifest nor a refusal", r.Repository, a.PullStatus), pull)
	}
	switch {
	case r.AuthError != "":
		p.Error(fmt.Sprintf("the credentials of %s were not probed: %s", orNone(r.Identity), r.AuthError), ev("identity", r.Identity, ""))
	case r.Authenticated != nil:
		p.Info(fmt.Sprintf("%s can: %s", r.Identity, can(*r.Authenticated)), ev("identity", r.Identity, ""))
	}
}

func can(a facts.RegistryAccess) string {
	var out []string
	if a.Catalog {
		out = append(out, "list the catalog")
	}
	if a.PullTried {
		out = append(out, map[bool]string{true: "pull", false: "not pull"}[a.Pull])
	}
	if a.PushTried {
		out = append(out, map[bool]string{true: "push", false: "not push"}[a.Push])
	}
	if len(out) == 0 {
		return "nothing that was probed"
	}
	return strings.Join(out, ", ")
}

// catalog passes only on a refusal: an answer that was not read (a timeout, a body too
// large, a redirect) says nothing about who may list the repositories.
func catalog(p *check.Pass) {
	a := p.Registry.Anonymous
	status := fmt.Sprint(a.CatalogStatus)
	switch {
	case a.Catalog:
		repos := strings.Join(a.Repositories, ", ")
		p.Fail("anyone can list the repositories", ev("GET /v2/_catalog", "200: "+orNone(repos), "401"))
	case a.CatalogError != "":
		p.Error("the catalog was not read: "+a.CatalogError, ev("GET /v2/_catalog", orNone(a.CatalogError), "401"))
	case a.CatalogStatus == 401 || a.CatalogStatus == 403:
		p.OK("the catalog needs credentials", ev("GET /v2/_catalog", status, "401"))
	case a.CatalogStatus == 0:
		p.Skip("the catalog probe did not run")
	default:
		p.Warn(fmt.Sprintf("GET /v2/_catalog answered %d, neither the catalog nor a refusal: whether it needs credentials is not known", a.CatalogStatus),
			ev("GET /v2/_catalog", status, "401"))
	}
}

func deleteRule(p *check.Pass) {
	r := p.Registry
	switch r.DeleteStatus {
	case 404:
		res := p.Fail("manifest deletion is enabled", ev("DELETE of an all-zero digest in "+r.Repository, "404 (manifest unknown: deletes are handled)", "405 (unsupported)"))
		if r.V2Status != 200 {
			res.Sev(finding.Low) // enabled, but only for authenticated clients
		}
	case 405:
		p.OK("manifest deletion is disabled", ev("DELETE of an all-zero digest", "405", ""))
	case 401, 403:
		p.OK(fmt.Sprintf("deletion needs credentials (%d); whether it is enabled was not probed further", r.DeleteStatus))
	case 0:
		if r.DeleteError != "" {
			p.Error("the delete probe got no answer: "+r.DeleteError, ev("DELETE of an all-zero digest", r.DeleteError, "405"))
			return
		}
		p.Skip("the delete probe did not run")
	default:
		p.Info(fmt.Sprintf("the delete probe got %d", r.DeleteStatus))
	}
}

func authRule(p *check.Pass) {
	r := p.Registry
	switch {
	case r.AuthScheme == "":
		p.Skip("the registry asks for no credentials (see REG-ANONYMOUS-PULL)")
	case r.TLS == nil && strings.EqualFold(r.AuthScheme, "basic"):
		p.Fail("Basic authentication over plain HTTP: passwords cross the network in clear", ev("challenge", r.AuthScheme+" realm="+r.AuthRealm, "Basic or Bearer over HTTPS"))
	case strings.EqualFold(r.AuthScheme, "bearer") && strings.HasPrefix(strings.ToLower(r.AuthRealm), "http://"):
		p.Fail("the token realm is plain HTTP: credentials go to "+r.AuthRealm+" in clear", ev("realm", r.AuthRealm, "https://…"))
	case r.TLS == nil:
		p.Fail("tokens are sent over plain HTTP", ev("scheme", "http", "https"))
	default:
		p.OK(r.AuthScheme+" authentication over HTTPS", ev("challenge", r.AuthScheme+" realm="+r.AuthRealm, ""))
	}
}

func anonymousPush(p *check.Pass) {
	a := p.Registry.Anonymous
	post := "anonymous POST /v2/" + p.Registry.Repository + "/blobs/uploads/"
	switch {
	case !a.PushTried:
		p.Skip("push was not probed (dockaudit registry --probe-push opens an upload session and cancels it)")
	case a.Push && a.PushError != "":
		p.Fail("anyone can push to "+p.Registry.Repository+"; "+a.PushError, ev(post, "202 (session opened)", "401"))
	case a.Push:
		p.Fail("anyone can push to "+p.Registry.Repository, ev(post, "202 (session opened, then cancelled)", "401"))
	case a.PushStatus == 401 || a.PushStatus == 403:
		p.OK("an anonymous upload was refused", ev(post, fmt.Sprint(a.PushStatus), "401"))
	case a.PushError != "":
		p.Error("the anonymous push probe got no answer: "+a.PushError, ev(post, a.PushError, "401"))
	default:
		p.Warn(fmt.Sprintf("the anonymous upload answered %d, neither a session nor a refusal", a.PushStatus), ev(post, fmt.Sprint(a.PushStatus), "401"))
	}
}
