// Package check defines what a check is (rule metadata plus one pure function over
// facts), the Pass a check reports into, rule selection (--include/--exclude) and the
// runner that evaluates checks against every target concurrently.
//
// It must not import a collector, net/http or a Docker client: checks decide from facts.
package check
