package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/collect/endpoint"
	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/parallel"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// ProbeOptions are the settings of dockaudit endpoint and dockaudit registry.
type ProbeOptions struct {
	Output
	Selection check.Selection
	Targets   []string
	Timeout   time.Duration
	// CACert verifies the server's chain (default: system roots); Cert and Key are a
	// client certificate for reading an mTLS daemon's version.
	CACert, Cert, Key string
	// Registry probes.
	Repository string
	Credential *registry.Credential
	ProbePush  bool
	Insecure   bool
	Now        func() time.Time
}

func (o ProbeOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o ProbeOptions) tlsOptions() (endpoint.Options, error) {
	eo := endpoint.Options{Timeout: o.Timeout}
	if o.CACert != "" {
		b, err := safefile.PEM(o.CACert)
		if err != nil {
			return eo, &UsageError{Err: fmt.Errorf("--tlscacert: %w", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return eo, &UsageError{Err: fmt.Errorf("--tlscacert %s: no PEM certificate in it", o.CACert)}
		}
		eo.Roots = pool
	}
	if (o.Cert == "") != (o.Key == "") {
		return eo, &UsageError{Err: errors.New("--tlscert and --tlskey go together")}
	}
	if o.Cert != "" {
		c, err := safefile.KeyPair(o.Cert, o.Key)
		if err != nil {
			return eo, &UsageError{Err: fmt.Errorf("client certificate: %w", err)}
		}
		eo.ClientCert = &c
	}
	return eo, nil
}

// ProbeError is a run in which some targets could not be probed; the report covers
// the rest.
type ProbeError struct{ Failed []string }

func (e *ProbeError) Error() string {
	return fmt.Sprintf("%d targets could not be probed", len(e.Failed))
}

// Endpoint probes daemon addresses and writes the report.
func Endpoint(ctx context.Context, opts ProbeOptions, stdout io.Writer) (*report.Report, error) {
	eo, err := opts.tlsOptions()
	if err != nil {
		return nil, err
	}
	eps := make([]facts.Endpoint, len(opts.Targets))
	parallel.Do(len(opts.Targets), 4, func(i int) {
		// --timeout bounds each address's whole probe; a probe cut short is an error,
		// never a partial list of versions and suites taken for refusals.
		tctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		eps[i] = endpoint.Probe(tctx, opts.Targets[i], eo)
		eps[i].Source = "argument"
		if tctx.Err() != nil && ctx.Err() == nil {
			eps[i] = facts.Endpoint{Address: eps[i].Address, Source: "argument",
				Error: fmt.Sprintf("no complete answer within --timeout %s (it bounds the whole probe)", opts.Timeout)}
		}
	})
	snap := &facts.Snapshot{SchemaVersion: facts.SchemaVersion, CollectedAt: opts.now().UTC(), Endpoints: eps,
		HostAccess: facts.HostAccess{Reason: "dockaudit endpoint probes addresses over the network"}}
	var failed []string
	for _, ep := range eps {
		if ep.Error != "" {
			failed = append(failed, ep.Address+": "+ep.Error)
		}
	}
	return probeReport(ctx, "endpoint", checks.Endpoint(), snap, opts, failed, stdout)
}

// Registry probes registries and writes the report.
func Registry(ctx context.Context, opts ProbeOptions, stdout io.Writer) (*report.Report, error) {
	eo, err := opts.tlsOptions()
	if err != nil {
		return nil, err
	}
	regs := make([]facts.Registry, len(opts.Targets))
	parallel.Do(len(opts.Targets), 4, func(i int) {
		regs[i] = registry.Probe(ctx, opts.Targets[i], registry.ProbeOptions{Repository: opts.Repository, Credential: opts.Credential,
			ProbePush: opts.ProbePush, Insecure: opts.Insecure, Timeout: opts.Timeout, TLS: eo})
	})
	snap := &facts.Snapshot{SchemaVersion: facts.SchemaVersion, CollectedAt: opts.now().UTC(), Registries: regs,
		HostAccess: facts.HostAccess{Reason: "dockaudit registry probes registries over the network"}}
	var failed []string
	for _, r := range regs {
		if r.Error != "" {
			failed = append(failed, r.URL+": "+r.Error)
		}
		if r.AuthError != "" {
			failed = append(failed, r.URL+": the credentials of "+r.Identity+" were not probed: "+r.AuthError)
		}
	}
	return probeReport(ctx, "registry", checks.Registry(), snap, opts, failed, stdout)
}

func probeReport(ctx context.Context, command string, all []check.Check, snap *facts.Snapshot, opts ProbeOptions, failed []string, stdout io.Writer) (*report.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	selected, err := opts.Selection.Apply(all)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	findings := check.Run(selected, snap, check.Options{})
	rules := make([]finding.Rule, 0, len(selected)+1)
	if len(failed) > 0 {
		rules = append(rules, check.CollectRule())
	}
	for _, c := range selected {
		rules = append(rules, c.Rule)
	}
	var targets []finding.Target
	for i := range snap.Endpoints {
		targets = append(targets, check.EndpointTarget(&snap.Endpoints[i]))
	}
	for i := range snap.Registries {
		targets = append(targets, check.RegistryTarget(&snap.Registries[i]))
	}
	for i := range snap.Profiles {
		targets = append(targets, check.ProfileTarget(&snap.Profiles[i]))
	}
	findings, rules, suppressed, leftOut := opts.suppress(findings, rules, nil, opts.now())
	r := report.Build(toolInfo(), command, opts.now(), report.Context{}, rules, targets, findings, report.Gate{FailOn: opts.FailOn, UnknownAs: opts.UnknownAs})
	r.Summary.Suppressed = suppressed
	r.Summary.LeftOut = append(r.Summary.LeftOut, leftOut...)
	if err := opts.write(stdout, r); err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		return r, &ProbeError{Failed: failed}
	}
	return r, nil
}
