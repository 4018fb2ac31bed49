package checks

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// BenchmarkRun measures the runner over recorded facts: every check of All() against a
// snapshot of the live fixture grown to n containers (copies of the recorded ones).
func BenchmarkRun(b *testing.B) {
	raw, err := os.ReadFile("cis/testdata/live.facts.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{5, 50, 500} {
		var s facts.Snapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			b.Fatal(err)
		}
		recorded := s.Containers
		s.Containers = nil
		for i := 0; i < n; i++ {
			c := recorded[i%len(recorded)]
			c.Name, c.ID = fmt.Sprintf("%s-%d", c.Name, i), fmt.Sprintf("%s%d", c.ID, i)
			s.Containers = append(s.Containers, c)
		}
		checks := All()
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				check.Run(checks, &s, check.Options{})
			}
		})
	}
}
