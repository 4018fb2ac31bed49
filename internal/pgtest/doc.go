// Package pgtest gives each test its own database on the local PostgreSQL that
// scripts/setup --server prepares, and drops it when the test ends.
package pgtest
