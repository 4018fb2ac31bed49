package parallel

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestDo(t *testing.T) {
	var running, most, sum atomic.Int64
	out := make([]int, 100)
	Do(100, 3, func(i int) {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // long enough for the workers to overlap
		out[i] = i * i
		sum.Add(int64(i))
		running.Add(-1)
	})
	if most.Load() != 3 || sum.Load() != 4950 || out[99] != 9801 {
		t.Errorf("at most %d at once, sum %d, out[99] %d", most.Load(), sum.Load(), out[99])
	}
	Do(0, 0, func(int) { t.Error("called for n = 0") })
}
