// Package parallel runs independent pieces of work a few at a time.
package parallel

import "sync"

// Do runs f(0..n-1) with at most k at once (at least one), and returns when all have.
func Do(n, k int, f func(int)) {
	sem := make(chan struct{}, max(1, k))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}
