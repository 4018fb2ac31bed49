package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestLeases: a key is pending once; replicas leasing at once never get the same job;
// a job whose lease ran out is leased again, and the replica that lost it can neither
// renew it nor finish it.
func TestLeases(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for i := range 20 {
		added, err := s.Enqueue(ctx, "scan", "k"+string(rune('a'+i)), map[string]int{"n": i})
		if err != nil || !added {
			t.Fatal(added, err)
		}
	}
	if added, err := s.Enqueue(ctx, "scan", "ka", nil); err != nil || added {
		t.Fatalf("a pending key was queued twice: %v %v", added, err)
	}
	var mu sync.Mutex
	got := map[int64]string{}
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := "replica" + string(rune('0'+r))
			for {
				j, err := s.Lease(ctx, owner, []string{"scan"}, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if j == nil {
					return
				}
				mu.Lock()
				if prev, dup := got[j.ID]; dup {
					t.Errorf("job %d leased by %s and %s", j.ID, prev, owner)
				}
				got[j.ID] = owner
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != 20 {
		t.Fatalf("%d jobs leased, want 20", len(got))
	}
	// Every job is now running under a live lease: nothing more to lease.
	if j, err := s.Lease(ctx, "late", []string{"scan"}, time.Minute); j != nil || err != nil {
		t.Fatalf("leased a job under a live lease: %+v %v", j, err)
	}
	// One replica dies: its lease runs out and another takes the job over.
	var id int64
	for k, v := range got {
		id = k
		_ = v
		break
	}
	if _, err := s.Pool.Exec(ctx, "UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	j, err := s.Lease(ctx, "survivor", []string{"scan"}, time.Minute)
	if err != nil || j == nil || j.ID != id || j.Attempts != 2 {
		t.Fatalf("re-lease: %+v %v", j, err)
	}
	if err := s.Heartbeat(ctx, id, got[id], time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the dead replica renewed a lease it lost: %v", err)
	}
	if err := s.Done(ctx, id, got[id]); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the dead replica finished a job it lost: %v", err)
	}
	if err := s.Heartbeat(ctx, id, "survivor", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, id, "survivor"); err != nil {
		t.Fatal(err)
	}
	// Done, the key may be queued again.
	if added, err := s.Enqueue(ctx, "scan", j.Key, nil); err != nil || !added {
		t.Fatalf("re-queue after done: %v %v", added, err)
	}
	// A failing job backs off, then fails for good after the last attempt.
	if _, err := s.Enqueue(ctx, "probe", "p", nil); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		j, err := s.Lease(ctx, "r", []string{"probe"}, time.Minute)
		if err != nil || j == nil {
			t.Fatalf("attempt %d: %v %v", attempt, j, err)
		}
		if err := s.Retry(ctx, j.ID, "r", errors.New("registry down"), 0, 3); err != nil {
			t.Fatal(err)
		}
	}
	var state, last string
	if err := s.Pool.QueryRow(ctx, "SELECT state, last_error FROM jobs WHERE key = 'p'").Scan(&state, &last); err != nil || state != "failed" || last != "registry down" {
		t.Fatalf("after 3 attempts: %s %q %v", state, last, err)
	}
	depth, err := s.QueueDepth(ctx)
	if err != nil || depth["scan"] != 20 || depth["probe"] != 0 {
		t.Fatalf("queue depth %v %v", depth, err)
	}
}

// TestEventsOnceWithDeliveries: an event written twice (a replica retrying) is one
// event with one delivery per receiver; a delivery leased is not handed out twice.
func TestEventsOnceWithDeliveries(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	im := Image{Digest: "sha256:aa", Registry: "r", Repository: "app", Facts: []byte{1}, Checks: []byte(`{}`), Covered: true,
		Vulns: []VulnRow{{ID: "GHSA-x", Aliases: []string{"CVE-2024-1"}, Package: "zlib", Installed: "1", Fixed: "2", Severity: "high"}}}
	ev := []Event{{Key: "k1", Kind: "vulnerability.new", Payload: map[string]string{"id": "CVE-2024-1"}, Receivers: []string{"https://a", "https://b"}}}
	for range 2 {
		if err := s.SaveImage(ctx, im, []ImageRef{{Registry: "r", Repository: "app", Tag: "1"}}, ev, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	where, err := s.WhereIs(ctx, "CVE-2024-1")
	if err != nil || len(where) != 1 || where[0].Package != "zlib" || where[0].Tags[0] != "1" || where[0].ID != "GHSA-x" {
		t.Fatalf("where is: %+v %v", where, err)
	}
	seen := map[string]bool{}
	for {
		d, err := s.NextDelivery(ctx, time.Minute, []string{"https://a", "https://b"})
		if err != nil {
			t.Fatal(err)
		}
		if d == nil {
			break
		}
		if seen[d.Receiver] || d.Key != "k1" {
			t.Fatalf("delivery %+v twice", d)
		}
		seen[d.Receiver] = true
	}
	if len(seen) != 2 {
		t.Fatalf("deliveries to %v, want both receivers", seen)
	}
}

// TestPruneEvents: only the configured receivers' deliveries are leased; pruning drops
// events past the cutoff that owe nothing to a configured receiver (what was owed to
// a removed one goes too) and keeps the rest.
func TestPruneEvents(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	add := func(key string, receivers ...string) {
		if err := s.AddEvents(ctx, []Event{{Key: key, Kind: "image.scanned", Payload: map[string]string{}, Receivers: receivers}}); err != nil {
			t.Fatal(err)
		}
	}
	add("done", "https://a")
	add("owed", "https://a")
	add("removed", "https://gone")
	add("none")
	kept := []string{"https://a"}
	d, err := s.NextDelivery(ctx, time.Minute, kept)
	if err != nil || d == nil || d.Key != "done" {
		t.Fatalf("first delivery %+v %v", d, err)
	}
	if err := s.Delivered(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d, err := s.NextDelivery(ctx, time.Minute, kept); err != nil || d == nil || d.Key != "owed" {
		t.Fatalf("second delivery %+v %v", d, err)
	}
	if d, err := s.NextDelivery(ctx, time.Minute, kept); err != nil || d != nil {
		t.Fatalf("a delivery to a receiver not configured was leased: %+v %v", d, err)
	}
	if n, err := s.PruneEvents(ctx, time.Now().Add(-time.Hour), kept); err != nil || n != 0 {
		t.Fatalf("pruned %d events newer than the cutoff: %v", n, err)
	}
	n, err := s.PruneEvents(ctx, time.Now().Add(time.Hour), kept)
	if err != nil || n != 3 {
		t.Fatalf("pruned %d, want 3: %v", n, err)
	}
	evs, err := s.Events(ctx, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Key != "owed" {
		t.Fatalf("left %+v %v", evs, err)
	}
}
