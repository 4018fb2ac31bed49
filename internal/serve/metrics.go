package serve

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// metrics are a replica's counters, written as Prometheus text at /metrics.
type metrics struct {
	mu       sync.Mutex
	counters map[string]float64
	jobs     map[string]*jobStat
}

type jobStat struct {
	count, failed int
	seconds       float64
}

func newMetrics() *metrics {
	return &metrics{counters: map[string]float64{}, jobs: map[string]*jobStat{}}
}

func (m *metrics) add(name string, n int) {
	m.mu.Lock()
	m.counters[name] += float64(n)
	m.mu.Unlock()
}

func (m *metrics) observe(kind string, d time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.jobs[kind]
	if st == nil {
		st = &jobStat{}
		m.jobs[kind] = st
	}
	st.count++
	st.seconds += d.Seconds()
	if err != nil {
		st.failed++
	}
}

var counterHelp = map[string]string{
	"scanned":         "Images scanned and stored.",
	"scan_errors":     "Image reads that failed (each is retried).",
	"queued":          "Image scans queued.",
	"polls":           "Registry polls completed.",
	"registry_errors": "Registry listings or resolutions that failed.",
	"rematched":       "Images judged again after advisory updates.",
	"delivered":       "Webhook deliveries that succeeded.",
	"update_errors":   "Advisory updates that failed.",
	"import_errors":   "Advisory imports that failed.",
	"store_errors":    "Database errors while leasing jobs.",
}

// writeMetrics writes the replica's metrics and the store's totals.
func (s *Server) writeMetrics(ctx context.Context, w io.Writer) error {
	depth, err := s.store.QueueDepth(ctx)
	if err != nil {
		return err
	}
	tot, err := s.store.Totals(ctx)
	if err != nil {
		return err
	}
	st, err := s.store.Advisories(ctx)
	if err != nil {
		return err
	}
	m := s.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(counterHelp)) {
		fmt.Fprintf(w, "# HELP dockaudit_%s_total %s\n# TYPE dockaudit_%s_total counter\ndockaudit_%s_total %g\n", name, counterHelp[name], name, name, m.counters[name])
	}
	fmt.Fprintf(w, "# HELP dockaudit_job_duration_seconds Time spent running jobs, by kind.\n# TYPE dockaudit_job_duration_seconds summary\n")
	for _, k := range jobKinds {
		st := m.jobs[k]
		if st == nil {
			st = &jobStat{}
		}
		fmt.Fprintf(w, "dockaudit_job_duration_seconds_sum{kind=%q} %g\ndockaudit_job_duration_seconds_count{kind=%q} %d\n", k, st.seconds, k, st.count)
	}
	fmt.Fprintf(w, "# HELP dockaudit_job_failures_total Jobs that ended in an error, by kind.\n# TYPE dockaudit_job_failures_total counter\n")
	for _, k := range jobKinds {
		n := 0
		if st := m.jobs[k]; st != nil {
			n = st.failed
		}
		fmt.Fprintf(w, "dockaudit_job_failures_total{kind=%q} %d\n", k, n)
	}
	fmt.Fprintf(w, "# HELP dockaudit_queue_depth Jobs queued or running, by kind (all replicas).\n# TYPE dockaudit_queue_depth gauge\n")
	for _, k := range jobKinds {
		fmt.Fprintf(w, "dockaudit_queue_depth{kind=%q} %d\n", k, depth[k])
	}
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP dockaudit_%s %s\n# TYPE dockaudit_%s gauge\ndockaudit_%s %g\n", name, help, name, name, v)
	}
	gauge("event_backlog", "Webhook deliveries not yet made.", float64(tot.EventBacklog))
	gauge("images", "Images stored.", float64(tot.Images))
	gauge("images_uncovered", "Images with packages no advisory source covers.", float64(tot.Uncovered))
	gauge("images_vulnerable", "Images with at least one vulnerability.", float64(tot.Vulnerable))
	gauge("layers", "Distinct layers read and kept.", float64(tot.Layers))
	age := -1.0
	if st != nil {
		age = time.Since(st.Built).Seconds()
	}
	gauge("database_age_seconds", "Age of the advisory database the findings reflect (-1: none yet).", age)
	return nil
}
