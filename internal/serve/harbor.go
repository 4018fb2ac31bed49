package serve

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/checks/vuln"
	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/store"
)

// Harbor's pluggable scanner API (goharbor/pluggable-scanner-spec, v1.1), under /harbor.
const (
	harborScanRequest  = "application/vnd.scanner.adapter.scan.request+json; version=1.0"
	harborScanResponse = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
	harborVulnReport   = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
	harborMetadata     = "application/vnd.scanner.adapter.metadata+json; version=1.0"
	harborError        = "application/vnd.scanner.adapter.error+json; version=1.0"
)

// HarborScanRequest is what Harbor posts to /harbor/api/v1/scan.
type HarborScanRequest struct {
	Registry struct {
		URL           string `json:"url"`
		Authorization string `json:"authorization"`
	} `json:"registry"`
	Artifact HarborArtifact `json:"artifact"`
}

// HarborArtifact names the image.
type HarborArtifact struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	Tag        string `json:"tag,omitempty"`
	MimeType   string `json:"mime_type,omitempty"`
}

// HarborScanner describes the scanner.
type HarborScanner struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
}

// HarborVulnerability is one entry of Harbor's report.
type HarborVulnerability struct {
	ID          string   `json:"id"`
	Package     string   `json:"package"`
	Version     string   `json:"version"`
	FixVersion  string   `json:"fix_version,omitempty"`
	Severity    string   `json:"severity"`
	Description string   `json:"description,omitempty"`
	Links       []string `json:"links,omitempty"`
}

// HarborReport is Harbor's vulnerability report.
type HarborReport struct {
	GeneratedAt     time.Time             `json:"generated_at"`
	Artifact        HarborArtifact        `json:"artifact"`
	Scanner         HarborScanner         `json:"scanner"`
	Severity        string                `json:"severity"`
	Vulnerabilities []HarborVulnerability `json:"vulnerabilities"`
}

func harborErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", harborError)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]map[string]string{"error": {"message": msg}})
}

func scanner() HarborScanner {
	return HarborScanner{Name: "dockaudit", Vendor: "dockaudit", Version: app.ToolVersion()}
}

func (s *Server) harborRoutes(mux *http.ServeMux, auth func(string, http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("GET /harbor/api/v1/metadata", auth("scan", s.harborMetadata))
	mux.HandleFunc("POST /harbor/api/v1/scan", auth("scan", s.harborScan))
	mux.HandleFunc("GET /harbor/api/v1/scan/{id}/report", auth("scan", s.harborReport))
}

func (s *Server) harborMetadata(w http.ResponseWriter, r *http.Request) {
	props := map[string]string{"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"}
	if st, err := s.store.Advisories(r.Context()); err == nil && st != nil {
		props["harbor.scanner-adapter/vulnerability-database-updated-at"] = st.Built.UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", harborMetadata)
	json.NewEncoder(w).Encode(map[string]any{
		"scanner": scanner(),
		"capabilities": []map[string][]string{{
			"consumes_mime_types": {"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"},
			"produces_mime_types": {harborVulnReport},
		}},
		"properties": props,
	})
}

// harborCredential turns Harbor's Authorization value into a credential: Harbor sends
// a robot account as Basic.
func harborCredential(auth string) (registry.Credential, error) {
	if auth == "" {
		return registry.Credential{}, nil
	}
	b64, ok := strings.CutPrefix(auth, "Basic ")
	if !ok {
		return registry.Credential{}, fmt.Errorf("registry.authorization: only Basic credentials are supported")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return registry.Credential{}, fmt.Errorf("registry.authorization: not base64")
	}
	u, p, ok := strings.Cut(string(raw), ":")
	if !ok {
		return registry.Credential{}, fmt.Errorf("registry.authorization: not USER:PASSWORD")
	}
	return registry.Credential{Username: u, Password: p}, nil
}

func (s *Server) harborScan(w http.ResponseWriter, r *http.Request) {
	var req HarborScanRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		harborErr(w, http.StatusBadRequest, "not a scan request")
		return
	}
	u, err := url.Parse(req.Registry.URL)
	if err != nil || u.Host == "" {
		harborErr(w, http.StatusBadRequest, "registry.url: not a URL")
		return
	}
	// Harbor names the registry: only one the configuration allows is ever fetched
	// from, so the scanner cannot be turned against other hosts.
	reg := s.cfg.registryFor(u.Host)
	if reg == nil {
		harborErr(w, http.StatusBadRequest, fmt.Sprintf("registry %s is not one this scanner may fetch from (add it to the configuration's registries)", u.Host))
		return
	}
	a := req.Artifact
	if !validDigest(a.Digest) || a.Repository == "" {
		harborErr(w, http.StatusBadRequest, "artifact: a repository and a sha256 digest are required")
		return
	}
	if _, err := reg.repository(a.Repository); err != nil {
		harborErr(w, http.StatusBadRequest, "artifact.repository: "+err.Error())
		return
	}
	cred, err := harborCredential(req.Registry.Authorization)
	if err != nil {
		harborErr(w, http.StatusBadRequest, err.Error())
		return
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	have, err := s.store.HasImage(r.Context(), a.Digest)
	if err != nil {
		harborErr(w, http.StatusServiceUnavailable, "the database did not answer")
		return
	}
	state := "running"
	if have {
		state = "done"
	}
	if err := s.store.AddHarborScan(r.Context(), store.HarborScan{ID: id, Registry: u.Host, Repository: a.Repository, Digest: a.Digest, State: state}); err != nil {
		harborErr(w, http.StatusServiceUnavailable, "the database did not answer")
		return
	}
	if !have {
		// The credentials Harbor sent stay in this process: they are never stored.
		p := ScanPayload{Host: u.Host, Repository: a.Repository, Tag: a.Tag, Digest: a.Digest}
		creds := func(host string) (registry.Credential, error) {
			if host != u.Host {
				return registry.Credential{}, nil
			}
			return cred, nil
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.opts.ImageTimeout+time.Minute)
			defer cancel()
			state, msg := "done", ""
			if err := s.scanWith(ctx, reg, creds, nil, p); err != nil {
				state, msg = "failed", err.Error()
				s.log.Warn("harbor scan failed", "artifact", a.Repository+"@"+a.Digest, "error", err)
			}
			if err := s.store.EndHarborScan(ctx, id, state, msg); err != nil {
				s.log.Warn("harbor scan", "error", err)
			}
		}()
	}
	w.Header().Set("Content-Type", harborScanResponse)
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]string{"id": id})
}

// harborSeverity maps dockaudit's severities onto Harbor's words.
func harborSeverity(s string) string {
	switch s {
	case "critical":
		return "Critical"
	case "high":
		return "High"
	case "medium":
		return "Medium"
	case "low":
		return "Low"
	case "info":
		return "Negligible"
	}
	return "Unknown"
}

var harborRank = map[string]int{"None": 0, "Unknown": 1, "Negligible": 2, "Low": 3, "Medium": 4, "High": 5, "Critical": 6}

func (s *Server) harborReport(w http.ResponseWriter, r *http.Request) {
	if acc := r.Header.Get("Accept"); acc != "" && !strings.Contains(acc, "vnd.scanner.adapter.vuln.report.harbor+json") && !strings.Contains(acc, "*/*") {
		harborErr(w, http.StatusBadRequest, "only "+harborVulnReport+" is produced")
		return
	}
	h, err := s.store.HarborScanByID(r.Context(), r.PathValue("id"))
	if err != nil {
		harborErr(w, http.StatusNotFound, "no scan with that id")
		return
	}
	switch h.State {
	case "running":
		w.Header().Set("Refresh-After", "5")
		w.Header().Set("Location", r.URL.Path)
		w.WriteHeader(http.StatusFound)
		return
	case "failed":
		harborErr(w, http.StatusInternalServerError, "the scan failed: "+firstLine(h.Error))
		return
	}
	raw, err := s.imageReport(r.Context(), h.Digest)
	if err != nil {
		harborErr(w, http.StatusInternalServerError, "the scanned image is not stored")
		return
	}
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		harborErr(w, http.StatusInternalServerError, "the stored report cannot be read")
		return
	}
	w.Header().Set("Content-Type", harborVulnReport)
	json.NewEncoder(w).Encode(harborReportOf(&rep, HarborArtifact{Repository: h.Repository, Digest: h.Digest}))
}

// harborReportOf is Harbor's view of a report. "None" only when every package was
// matched: packages no advisory source covers (or no database at all) make the
// severity at least "Unknown", never a clean bill.
func harborReportOf(rep *report.Report, a HarborArtifact) HarborReport {
	out := HarborReport{GeneratedAt: rep.GeneratedAt, Artifact: a, Scanner: scanner(), Severity: "None", Vulnerabilities: []HarborVulnerability{}}
	for _, f := range rep.Findings {
		if f.Rule == vuln.Rule.ID && f.Status == finding.Skip && harborRank[out.Severity] < harborRank["Unknown"] {
			out.Severity = "Unknown"
		}
		if f.Vuln == nil || !f.Status.Problem() {
			continue
		}
		v := HarborVulnerability{ID: f.Vuln.ID, Package: f.Vuln.Package, Version: f.Vuln.Installed, FixVersion: f.Vuln.Fixed,
			Severity: harborSeverity(f.Severity.String()), Description: f.Vuln.Summary, Links: []string{"https://osv.dev/vulnerability/" + url.PathEscape(f.Vuln.ID)}}
		out.Vulnerabilities = append(out.Vulnerabilities, v)
		if harborRank[v.Severity] > harborRank[out.Severity] {
			out.Severity = v.Severity
		}
	}
	return out
}
