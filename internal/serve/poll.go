package serve

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
)

type pollPayload struct {
	Host string `json:"host"`
}

type refPayload struct {
	Host       string `json:"host"`
	Repository string `json:"repository"`
	Reference  string `json:"reference"` // a tag or a digest
	Tag        string `json:"tag,omitempty"`
}

// ScanPayload names one image manifest to scan.
type ScanPayload struct {
	Host        string `json:"host"`
	Repository  string `json:"repository"`
	Tag         string `json:"tag,omitempty"`
	Digest      string `json:"digest"`
	Platform    string `json:"platform,omitempty"`
	IndexDigest string `json:"index_digest,omitempty"`
}

func (r *RegistryConfig) client() *registry.Client {
	return &registry.Client{Insecure: r.Insecure, Credentials: r.credentials}
}

func (r *RegistryConfig) repository(repo string) (name.Repository, error) {
	opts := []name.Option{name.StrictValidation}
	if r.Insecure || strings.HasPrefix(r.URL, "http://") {
		opts = append(opts, name.Insecure)
	}
	return name.NewRepository(r.host+"/"+repo, opts...)
}

// poll lists the registry's repositories and tags and queues what is new.
func (s *Server) poll(ctx context.Context, r *RegistryConfig) error {
	c := r.client()
	repos, err := c.Catalog(ctx, r.host)
	if err != nil {
		s.metrics.add("registry_errors", 1)
		return fmt.Errorf("registry %s: %w", r.URL, err)
	}
	var errs []error
	for _, repo := range repos {
		if !r.wants(repo) {
			continue
		}
		rn, err := r.repository(repo)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tags, err := c.Tags(ctx, rn)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", repo, err))
			continue
		}
		for _, tag := range tags {
			if err := s.resolveWith(ctx, c, r, repo, tag, tag); err != nil {
				errs = append(errs, fmt.Errorf("%s:%s: %w", repo, tag, err))
			}
		}
	}
	s.metrics.add("polls", 1)
	if len(errs) > 0 {
		s.metrics.add("registry_errors", len(errs))
		return errors.Join(errs...)
	}
	return nil
}

// resolve queues a scan of each image manifest a pushed reference names.
func (s *Server) resolve(ctx context.Context, r *RegistryConfig, repo, ref, tag string) error {
	return s.resolveWith(ctx, r.client(), r, repo, ref, tag)
}

func (s *Server) resolveWith(ctx context.Context, c *registry.Client, r *RegistryConfig, repo, ref, tag string) error {
	rn, err := r.repository(repo)
	if err != nil {
		return errPermanent{err}
	}
	if !validRef(ref) {
		return errPermanent{fmt.Errorf("%q is neither a tag nor a sha256 digest", ref)}
	}
	var nref name.Reference
	if strings.HasPrefix(ref, "sha256:") {
		nref = rn.Digest(ref)
	} else {
		nref = rn.Tag(ref)
	}
	res, err := c.Resolve(ctx, nref)
	if err != nil {
		return err
	}
	if res.Artifact != "" {
		// A signature, attestation or referrers list pushed beside an image: no image
		// to scan (the image it vouches for is verified when it is scanned).
		s.log.Info("not an image: not scanned", "repository", repo, "reference", ref, "is", res.Artifact)
		return nil
	}
	for _, m := range res.Manifests {
		idx := ""
		if res.Index {
			idx = res.Digest
		}
		have, err := s.store.HasImage(ctx, m.Digest)
		if err != nil {
			return err
		}
		if have {
			if err := s.store.AddRefs(ctx, m.Digest, refsOf(r.host, repo, tag, idx)); err != nil {
				return err
			}
			continue
		}
		p := ScanPayload{Host: r.host, Repository: repo, Tag: tag, Digest: m.Digest, Platform: m.Platform, IndexDigest: idx}
		added, err := s.store.Enqueue(ctx, jobScan, "scan:"+m.Digest, p)
		if err != nil {
			return err
		}
		if added {
			s.metrics.add("queued", 1)
		}
	}
	return nil
}
