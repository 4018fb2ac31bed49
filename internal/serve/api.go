package serve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/store"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// Bounds on request bodies.
const (
	maxReportBody = 64 << 20
	maxHookBody   = 1 << 20
	maxPage       = 1000
)

// Handler is the HTTP API. noAuth serves every request without a token (the
// development flag, which the command allows on loopback only).
func (s *Server) Handler(noAuth bool) http.Handler {
	mux := http.NewServeMux()
	auth := func(scope string, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !noAuth {
				tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !ok {
					w.Header().Set("WWW-Authenticate", `Bearer realm="dockaudit"`)
					writeError(w, http.StatusUnauthorized, "an API token is required: Authorization: Bearer TOKEN (dockaudit serve token create)")
					return
				}
				t, err := s.store.Authenticate(r.Context(), strings.TrimSpace(tok))
				if errors.Is(err, store.ErrBadToken) {
					writeError(w, http.StatusUnauthorized, "unknown or revoked token")
					return
				}
				if err != nil {
					s.storeError(w, err)
					return
				}
				if !store.Allows(t.Scope, scope) {
					writeError(w, http.StatusForbidden, fmt.Sprintf("this token's scope is %s; this needs %s", t.Scope, scope))
					return
				}
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /metrics", auth("read", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		if err := s.writeMetrics(r.Context(), w); err != nil {
			s.storeError(w, err)
		}
	}))
	mux.HandleFunc("GET /api/v1/summary", auth("read", s.summary))
	mux.HandleFunc("GET /api/v1/images", auth("read", s.listImages))
	mux.HandleFunc("GET /api/v1/images/{digest}", auth("read", s.getImage))
	mux.HandleFunc("GET /api/v1/vulnerabilities/{id}", auth("read", s.whereIs))
	mux.HandleFunc("GET /api/v1/hosts", auth("read", s.listHosts))
	mux.HandleFunc("GET /api/v1/hosts/{name}", auth("read", s.getHost))
	mux.HandleFunc("GET /api/v1/events", auth("read", s.listEvents))
	mux.HandleFunc("POST /api/v1/reports", auth("submit", s.submit))
	mux.HandleFunc("POST /api/v1/images", auth("submit", s.submitImages))
	mux.HandleFunc("POST /api/v1/scan", auth("scan", s.requestScan))
	mux.HandleFunc("POST /hooks/registry", s.registryHook)
	s.uiRoutes(mux, noAuth)
	s.harborRoutes(mux, auth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path+" (see docs/api.md)")
	})
	return mux
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, Error{Error: msg})
}

// storeError answers a database failure without its details (they may name the
// database), which go to the log.
func (s *Server) storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("request", "error", err)
	writeError(w, http.StatusServiceUnavailable, "the database did not answer; try again")
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Pool.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "replica": s.owner})
}

// Page is a listing: Next, when set, is the after= of the next page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func limitOf(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		return 0, fmt.Errorf("limit %q: use 1 to %d", v, maxPage)
	}
	return n, nil
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	tot, err := s.store.Totals(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	st, err := s.store.Advisories(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		store.Counts
		Database *store.AdvisoryState `json:"database"`
	}{tot, st})
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	limit, err := limitOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	f := store.ImageFilter{Repository: q.Get("repository"), Tag: q.Get("tag"), Digest: q.Get("digest"), After: q.Get("after"), Limit: limit + 1}
	items, err := s.store.ListImages(r.Context(), f)
	if err != nil {
		s.storeError(w, err)
		return
	}
	p := Page[store.ImageSummary]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = items[limit-1].Digest
	}
	writeJSON(w, http.StatusOK, p)
}

// tagRE is the distribution specification's tag grammar.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// validRef reports a tag or a sha256 digest: anything else would become part of a
// registry URL's path ("../_catalog").
func validRef(ref string) bool { return validDigest(ref) || tagRE.MatchString(ref) }

func validDigest(d string) bool {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	if !validDigest(d) {
		writeError(w, http.StatusBadRequest, "not an image digest (sha256: and 64 hex digits)")
		return
	}
	b, err := s.imageReport(r.Context(), d)
	if err != nil {
		s.storeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// Where is the answer to "where is CVE-X": the images affected, and the containers of
// each host's latest report that run one of them.
type Where struct {
	ID     string           `json:"id"`
	Images []store.Affected `json:"images"`
	Hosts  []store.HostHit  `json:"hosts"`
}

func (s *Server) whereIs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > 200 || !utf8.ValidString(id) {
		writeError(w, http.StatusBadRequest, "not a vulnerability ID")
		return
	}
	imgs, err := s.store.WhereIs(r.Context(), id)
	if err != nil {
		s.storeError(w, err)
		return
	}
	if imgs == nil {
		imgs = []store.Affected{}
	}
	var digests []string
	for _, a := range imgs {
		digests = append(digests, a.Digest)
	}
	hosts, err := s.store.HostsRunning(r.Context(), slices.Compact(slices.Sorted(slices.Values(digests))))
	if err != nil {
		s.storeError(w, err)
		return
	}
	if hosts == nil {
		hosts = []store.HostHit{}
	}
	writeJSON(w, http.StatusOK, Where{ID: id, Images: imgs, Hosts: hosts})
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) {
	limit, err := limitOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	hs, err := s.store.Hosts(r.Context(), r.URL.Query().Get("after"), limit+1)
	if err != nil {
		s.storeError(w, err)
		return
	}
	p := Page[store.HostReport]{Items: hs}
	if p.Items == nil {
		p.Items = []store.HostReport{}
	}
	if len(hs) > limit {
		p.Items, p.Next = hs[:limit], hs[limit-1].Host
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) {
	limit, err := limitOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	hs, err := s.store.HostHistory(r.Context(), r.PathValue("name"), limit)
	if err != nil {
		s.storeError(w, err)
		return
	}
	if len(hs) > 0 {
		if hs[0].Containers, err = s.store.ContainersOf(r.Context(), hs[0].ID); err != nil {
			s.storeError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, Page[store.HostReport]{Items: hs})
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	limit, err := limitOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var after int64
	if a := r.URL.Query().Get("after"); a != "" {
		if after, err = strconv.ParseInt(a, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "after: not an event id")
			return
		}
	}
	es, err := s.store.Events(r.Context(), after, limit+1)
	if err != nil {
		s.storeError(w, err)
		return
	}
	p := Page[store.EventRow]{Items: es}
	if p.Items == nil {
		p.Items = []store.EventRow{}
	}
	if len(es) > limit {
		p.Items, p.Next = es[:limit], strconv.FormatInt(es[limit-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, p)
}

// Submission is what dockaudit host --submit sends: the host's name and its report.
type Submission struct {
	Host   string          `json:"host"`
	Report json.RawMessage `json:"report"`
	// Containers are the containers the report was made with and their images, so
	// that "where is CVE-X" can name the hosts that run an affected image.
	Containers []store.HostContainer `json:"containers,omitempty"`
}

// maxContainers bounds a submission's container list.
const maxContainers = 100000

// validContainers says what is wrong with a submission's containers, or "".
func validContainers(cs []store.HostContainer) string {
	if len(cs) > maxContainers {
		return fmt.Sprintf("containers: at most %d", maxContainers)
	}
	for i, c := range cs {
		switch {
		case c.ID == "" || len(c.ID) > 128 || len(c.Name) > 256 || len(c.State) > 32 || len(c.Image) > 1024 ||
			!utf8.ValidString(c.Name+c.ID+c.State+c.Image):
			return fmt.Sprintf("containers[%d]: an id of 1 to 128 characters, a name, state and image of bounded length", i)
		case !validDigest(c.ImageID):
			return fmt.Sprintf("containers[%d]: image_id: not an image ID (sha256: and 64 hex digits)", i)
		case len(c.Digests) > 100:
			return fmt.Sprintf("containers[%d]: digests: at most 100", i)
		}
		for _, d := range c.Digests {
			if !validDigest(d) {
				return fmt.Sprintf("containers[%d]: digests: %q is not a manifest digest (sha256: and 64 hex digits)", i, firstLine(d))
			}
		}
	}
	return ""
}

// Submitted is the answer to a submission.
type Submitted struct {
	ID          int64     `json:"id"`
	Host        string    `json:"host"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// readBody decodes a JSON body of at most maxReportBody into v, or answers the error
// and returns false: what is the body's name in a size error ("report"), kind its
// name in a decoding error ("a submission").
func readBody(w http.ResponseWriter, r *http.Request, what, kind string, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxReportBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the %s is larger than %d MiB", what, maxReportBody>>20))
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "not "+kind+": "+firstLine(err.Error()))
		return false
	}
	return true
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	var sub Submission
	if !readBody(w, r, "report", "a submission", &sub) {
		return
	}
	if sub.Host == "" || len(sub.Host) > 253 || !utf8.ValidString(sub.Host) || strings.ContainsAny(sub.Host, "/\x00") {
		writeError(w, http.StatusBadRequest, "host: a name of 1 to 253 characters without /")
		return
	}
	var rep report.Report
	if err := json.Unmarshal(sub.Report, &rep); err != nil {
		writeError(w, http.StatusBadRequest, "report: not a dockaudit JSON report: "+firstLine(err.Error()))
		return
	}
	if rep.SchemaVersion != report.SchemaVersion || rep.Command != "host" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("report: want a dockaudit host report of schema %s (got command %q, schema %q)", report.SchemaVersion, rep.Command, rep.SchemaVersion))
		return
	}
	if msg := validContainers(sub.Containers); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	summary, _ := json.Marshal(rep.Summary)
	h, err := s.store.SaveHostReport(r.Context(), sub.Host, sub.Report, summary, sub.Containers)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, Submitted{ID: h.ID, Host: h.Host, SubmittedAt: h.SubmittedAt})
}

func firstLine(s string) string { return textsafe.FirstLine(s, 200) }

// ScanRequest asks for an image to be scanned: HOST/REPOSITORY:TAG or @DIGEST, on a
// registry the configuration names.
type ScanRequest struct {
	Reference string `json:"reference"`
}

func (s *Server) requestScan(w http.ResponseWriter, r *http.Request) {
	var req ScanRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "want {\"reference\": \"HOST/REPOSITORY:TAG\"}")
		return
	}
	host, rest, ok := strings.Cut(req.Reference, "/")
	reg := s.cfg.registryFor(host)
	if !ok || reg == nil {
		writeError(w, http.StatusForbidden, fmt.Sprintf("registry %q is not one this server watches", host))
		return
	}
	repo, ref, tag := rest, "latest", "latest"
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		repo, ref, tag = rest[:i], rest[i+1:], ""
	} else if i := strings.LastIndex(rest, ":"); i >= 0 {
		repo, ref, tag = rest[:i], rest[i+1:], rest[i+1:]
	}
	if _, err := reg.repository(repo); err != nil || !reg.wants(repo) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("repository %q is not one this server scans on %s", repo, host))
		return
	}
	if !validRef(ref) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is neither a tag nor a sha256 digest", ref))
		return
	}
	if _, err := s.store.Enqueue(r.Context(), jobRef, "ref:"+host+"/"+repo+"@"+ref, refPayload{Host: host, Repository: repo, Reference: ref, Tag: tag}); err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "queued"})
}

// notification is the part of a distribution notification envelope read here.
type notification struct {
	Events []struct {
		Action string `json:"action"`
		Target struct {
			MediaType  string `json:"mediaType"`
			Digest     string `json:"digest"`
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
		} `json:"target"`
	} `json:"events"`
}

// registryHook takes the push events of a registry's notification endpoint. The
// shared secret names the registry: events are only ever resolved on it.
func (s *Server) registryHook(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	var reg *RegistryConfig
	for i := range s.cfg.Registries {
		c := &s.cfg.Registries[i]
		if c.secret != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(c.secret)) == 1 {
			reg = c
		}
	}
	if reg == nil {
		writeError(w, http.StatusUnauthorized, "unknown notification secret")
		return
	}
	var n notification
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxHookBody)).Decode(&n); err != nil {
		writeError(w, http.StatusBadRequest, "not a registry notification envelope")
		return
	}
	queued := 0
	for _, e := range n.Events {
		t := e.Target
		if e.Action != "push" || !reg.wants(t.Repository) {
			continue
		}
		if !strings.Contains(t.MediaType, "manifest") && !strings.Contains(t.MediaType, "index") {
			continue // a blob push
		}
		ref := t.Tag
		if ref == "" {
			ref = t.Digest
		}
		if ref == "" {
			continue
		}
		if _, err := reg.repository(t.Repository); err != nil || !validRef(ref) {
			continue
		}
		added, err := s.store.Enqueue(r.Context(), jobRef, "ref:"+reg.host+"/"+t.Repository+"@"+ref, refPayload{Host: reg.host, Repository: t.Repository, Reference: ref, Tag: t.Tag})
		if err != nil {
			s.storeError(w, err)
			return
		}
		if added {
			queued++
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"queued": queued})
}

// ImageSubmission is what dockaudit image --submit sends: the images as read, before
// matching; the service judges them with its own database and keeps them re-matched.
type ImageSubmission struct {
	Images []facts.Image `json:"images"`
}

// SubmittedImages is the answer: the digests the images are kept under.
type SubmittedImages struct {
	Digests []string `json:"digests"`
}

// SubmittedRegistry is the registry name of images submitted rather than pulled.
const SubmittedRegistry = "submitted"

func (s *Server) submitImages(w http.ResponseWriter, r *http.Request) {
	var sub ImageSubmission
	if !readBody(w, r, "submission", "an image submission", &sub) {
		return
	}
	if len(sub.Images) == 0 || len(sub.Images) > 100 {
		writeError(w, http.StatusBadRequest, "images: 1 to 100 per submission")
		return
	}
	out := SubmittedImages{Digests: []string{}}
	for _, im := range sub.Images {
		d := im.Digest
		if d == "" {
			d = im.ID // a daemon image: its configuration's digest
		}
		if im.Error != "" || im.Content == nil || !validDigest(d) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("image %q: not an image as dockaudit image reads one (a sha256 digest or ID, and its content)", firstLine(im.Ref)))
			return
		}
		repo, tag := refName(im.Ref)
		if err := s.keep(r.Context(), im, ScanPayload{Host: SubmittedRegistry, Repository: repo, Tag: tag, Digest: d}, nil); err != nil {
			s.storeError(w, err)
			return
		}
		out.Digests = append(out.Digests, d)
	}
	writeJSON(w, http.StatusCreated, out)
}

// refName splits what dockaudit image was given ("registry:host/app:1", "app:1",
// "docker-archive:x.tar") into a repository and a tag.
func refName(ref string) (repo, tag string) {
	if i := strings.Index(ref, ":"); i > 0 && !strings.ContainsAny(ref[:i], "/.") {
		switch ref[:i] {
		case "registry", "daemon", "docker-archive", "oci", "dir":
			ref = ref[i+1:]
		}
	}
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref, tag = ref[:i], ref[i+1:]
	}
	if len(ref) > 255 {
		ref = ref[:255]
	}
	return ref, tag
}
