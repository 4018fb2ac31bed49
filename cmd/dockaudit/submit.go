package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/store"
)

// submitFlags send a report to dockaudit serve.
type submitFlags struct {
	url, tokenFile, name string
	token                string
	endpoint             *url.URL
}

func (s *submitFlags) register(fs *flags) {
	fs.StringVar(&s.url, "submit", "", "also send what was read to the dockaudit serve at `URL` (https://, or http:// on loopback), which keeps it")
	fs.StringVar(&s.tokenFile, "token-file", "", "the API token for --submit, from `FILE` (a submit-scope token: dockaudit serve token create --scope submit)")
}

// registerName adds --submit-name (dockaudit host).
func (s *submitFlags) registerName(fs *flags) {
	fs.StringVar(&s.name, "submit-name", "", "the host `NAME` the report is kept under (default: the daemon's name)")
}

// check validates the flags before anything runs: a token never goes over plain HTTP
// beyond this machine.
func (s *submitFlags) check() error {
	if s.url == "" {
		if s.tokenFile != "" || s.name != "" {
			return errors.New("--token-file and --submit-name go with --submit URL")
		}
		return nil
	}
	u, err := url.Parse(s.url)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("--submit %q: want https://HOST[:PORT] (the dockaudit serve address)", s.url)
	}
	if u.Scheme == "http" && !registry.Loopback(u.Host) {
		return fmt.Errorf("--submit %s: the token would travel in clear; use https:// (plain http:// only on loopback)", s.url)
	}
	if s.tokenFile == "" {
		return errors.New("--submit needs --token-file FILE (a submit-scope token)")
	}
	b, err := safefile.Read(s.tokenFile, 4096)
	if err != nil {
		return fmt.Errorf("--token-file: %w", err)
	}
	if s.token = strings.TrimSpace(string(b)); s.token == "" || strings.ContainsAny(s.token, " \n\r\t") {
		return fmt.Errorf("--token-file %s: want one token on one line", s.tokenFile)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	s.endpoint = u
	return nil
}

// submit sends the report; the name is --submit-name, else the daemon's, else this
// machine's.
func (s *submitFlags) submit(ctx context.Context, r *report.Report, containers []store.HostContainer) (string, error) {
	name := s.name
	if name == "" {
		name = r.Context.Daemon
	}
	if name == "" {
		name, _ = os.Hostname()
	}
	rb, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(map[string]any{"host": name, "report": json.RawMessage(rb), "containers": containers})
	if err != nil {
		return "", err
	}
	return name, s.post(ctx, "/api/v1/reports", body)
}

// submitImages sends images as read (before matching) for the service to judge and
// keep.
func (s *submitFlags) submitImages(ctx context.Context, images []byte) error {
	return s.post(ctx, "/api/v1/images", images)
}

func (s *submitFlags) post(ctx context.Context, path string, body []byte) error {
	u := *s.endpoint
	u.Path += path
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("User-Agent", "dockaudit")
	// No redirects: a 30x must not carry the token elsewhere.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("submit to %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusCreated {
		var e struct{ Error string }
		msg := resp.Status
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg += ": " + e.Error
		}
		return fmt.Errorf("submit to %s: %s", u.Redacted(), msg)
	}
	return nil
}

// hostContainers lists the containers of an audit with the image each runs: its ID
// and the manifest digests the daemon knows it by (from its repository digests).
func hostContainers(snap *facts.Snapshot) []store.HostContainer {
	digests := map[string][]string{}
	for _, im := range snap.Images {
		for _, rd := range im.Digests {
			if _, d, ok := strings.Cut(rd, "@"); ok && !slices.Contains(digests[im.ID], d) {
				digests[im.ID] = append(digests[im.ID], d)
			}
		}
	}
	out := []store.HostContainer{}
	for _, c := range snap.Containers {
		if c.Error != "" || c.ImageID == "" {
			continue
		}
		hc := store.HostContainer{Name: c.Name, ID: c.ID, State: c.Status(), ImageID: c.ImageID, Digests: digests[c.ImageID]}
		if c.Config != nil {
			hc.Image = c.Config.Image
		}
		out = append(out, hc)
	}
	return out
}
