package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockaudit/dockaudit/internal/store"
)

// Options configure a replica.
type Options struct {
	Store  *store.Store
	Config *Config
	// DataDir holds this replica's copy of the advisory database and temporary files.
	DataDir string
	Log     *slog.Logger
	// Lease is how long a job is a replica's without a heartbeat (default 2m; the
	// heartbeat renews it every third of that).
	Lease time.Duration
	// ImageTimeout bounds reading one image (default 10m).
	ImageTimeout time.Duration
	// Idle is the pause when no job is due (default 1s).
	Idle time.Duration
	// HookClient sends webhooks (default: 30 s timeout, proxies from the environment).
	HookClient *http.Client
	Now        func() time.Time
}

// Server is one replica.
type Server struct {
	opts    Options
	store   *store.Store
	cfg     *Config
	log     *slog.Logger
	owner   string
	hooks   *http.Client
	metrics *metrics

	dbMu   sync.Mutex // guards dbSHA and dbSeen, and the file while it is replaced
	dbSHA  string     // the digest of the advisory database in DataDir/db
	dbSeen time.Time
}

// New makes a replica; Run starts it.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Config == nil || o.DataDir == "" {
		return nil, errors.New("serve: a store, a configuration and a data directory are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.ImageTimeout <= 0 {
		o.ImageTimeout = 10 * time.Minute
	}
	if o.Idle <= 0 {
		o.Idle = time.Second
	}
	if o.HookClient == nil {
		o.HookClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Join(o.DataDir, "db"), 0o700); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return &Server{opts: o, store: o.Store, cfg: o.Config, log: o.Log, hooks: o.HookClient,
		owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])), metrics: newMetrics()}, nil
}

// Owner is the replica's name in job leases.
func (s *Server) Owner() string { return s.owner }

// job kinds
const (
	jobPoll    = "poll"    // list a registry, recurring
	jobRef     = "ref"     // resolve one pushed reference
	jobScan    = "scan"    // read and judge one image manifest
	jobUpdate  = "update"  // dockaudit db update, recurring
	jobImport  = "import"  // the import directory, recurring
	jobRematch = "rematch" // judge stored images again after a new database
)

var jobKinds = []string{jobPoll, jobRef, jobScan, jobUpdate, jobImport, jobRematch}

// Run schedules the recurring jobs and works until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	if err := s.bootstrapDB(ctx); err != nil {
		return err
	}
	if err := s.rekeyStale(ctx); err != nil {
		return err
	}
	if err := s.schedule(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var pruned time.Time
		for ctx.Err() == nil {
			if _, err := s.deliver(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("webhook deliveries", "error", err)
			}
			if time.Since(pruned) > time.Hour {
				s.prune(ctx)
				pruned = time.Now()
			}
			sleep(ctx, s.opts.Idle)
		}
	}()
	wg.Wait()
	return ctx.Err()
}

// schedule makes sure each recurring job exists; replicas starting together add each
// once (a key is pending at most once).
func (s *Server) schedule(ctx context.Context) error {
	now := s.opts.Now()
	for _, r := range s.cfg.Registries {
		if _, err := s.store.EnqueueAt(ctx, jobPoll, "poll:"+r.host, pollPayload{Host: r.host}, now); err != nil {
			return err
		}
	}
	if s.cfg.Advisories.Update > 0 {
		if _, err := s.store.EnqueueAt(ctx, jobUpdate, "advisories:update", struct{}{}, now); err != nil {
			return err
		}
	}
	if s.cfg.Advisories.ImportDir != "" {
		if _, err := s.store.EnqueueAt(ctx, jobImport, "advisories:import", struct{}{}, now); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// work leases and runs jobs until ctx ends. A database that goes away (PostgreSQL
// restarting) is waited for, not fatal.
func (s *Server) work(ctx context.Context) {
	for ctx.Err() == nil {
		j, err := s.store.Lease(ctx, s.owner, jobKinds, s.opts.Lease)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("leasing a job", "error", err)
				s.metrics.add("store_errors", 1)
			}
			sleep(ctx, 2*s.opts.Idle)
			continue
		}
		if j == nil {
			sleep(ctx, s.opts.Idle)
			continue
		}
		s.run(ctx, j)
	}
}

// errPermanent marks a job that retrying cannot help.
type errPermanent struct{ error }

// run runs one job under its lease: a heartbeat renews the lease, and losing it (the
// replica was too slow, another took the job over) cancels the work.
func (s *Server) run(ctx context.Context, j *store.Job) {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(s.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := s.store.Heartbeat(jctx, j.ID, s.owner, s.opts.Lease); errors.Is(err, store.ErrLeaseLost) {
					s.log.Warn("lease lost; dropping the job", "job", j.Key)
					cancel()
					return
				}
			}
		}
	}()
	start := time.Now()
	err := s.handle(jctx, j)
	close(done)
	s.metrics.observe(j.Kind, time.Since(start), err)
	if err == nil || errors.Is(err, store.ErrLeaseLost) || ctx.Err() != nil {
		return
	}
	attempts := 8
	var perm errPermanent
	switch {
	case errors.As(err, &perm):
		attempts = 0
	case j.Kind == jobPoll || j.Kind == jobUpdate || j.Kind == jobImport:
		// A recurring job never fails for good: a registry or a mirror down for a day
		// is retried (backoff up to an hour) until it answers.
		attempts = math.MaxInt32
	}
	s.log.Warn("job failed", "job", j.Key, "attempt", j.Attempts, "error", err)
	if j.Attempts >= attempts && j.Kind == jobScan {
		s.failedScan(ctx, j, err)
	}
	if rerr := s.store.Retry(ctx, j.ID, s.owner, err, backoff(j.Attempts), attempts); rerr != nil {
		s.log.Warn("job retry", "job", j.Key, "error", rerr)
	}
}

func (s *Server) handle(ctx context.Context, j *store.Job) error {
	switch j.Kind {
	case jobPoll:
		var p pollPayload
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return errPermanent{err}
		}
		r := s.cfg.registryFor(p.Host)
		if r == nil {
			// No longer configured: the recurring job ends.
			return s.store.Done(ctx, j.ID, s.owner)
		}
		if err := s.poll(ctx, r); err != nil {
			return err
		}
		return s.store.Reschedule(ctx, j.ID, s.owner, time.Duration(r.Poll))
	case jobRef:
		var p refPayload
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return errPermanent{err}
		}
		r := s.cfg.registryFor(p.Host)
		if r == nil {
			return errPermanent{fmt.Errorf("registry %s is not in the configuration", p.Host)}
		}
		if err := s.resolve(ctx, r, p.Repository, p.Reference, p.Tag); err != nil {
			return err
		}
		return s.store.Done(ctx, j.ID, s.owner)
	case jobScan:
		var p ScanPayload
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return errPermanent{err}
		}
		return s.scan(ctx, j, p)
	case jobUpdate:
		if s.cfg.Advisories.Update == 0 {
			return s.store.Done(ctx, j.ID, s.owner) // updates were turned off
		}
		if err := s.advisories(ctx, true); err != nil {
			return err
		}
		return s.store.Reschedule(ctx, j.ID, s.owner, time.Duration(s.cfg.Advisories.Update))
	case jobImport:
		if s.cfg.Advisories.ImportDir == "" {
			return s.store.Done(ctx, j.ID, s.owner)
		}
		if err := s.advisories(ctx, false); err != nil {
			return err
		}
		return s.store.Reschedule(ctx, j.ID, s.owner, importEvery)
	case jobRematch:
		var p rematchPayload
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return errPermanent{err}
		}
		if err := s.rematch(ctx, p); err != nil {
			return err
		}
		return s.store.Done(ctx, j.ID, s.owner)
	}
	return errPermanent{fmt.Errorf("unknown job kind %q", j.Kind)}
}
