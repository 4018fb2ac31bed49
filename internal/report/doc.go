// Package report assembles the Report (schema version, tool, context, rules, findings,
// summary) and writes it as a table, JSON or SARIF 2.1.0. Every writer is a pure
// function of the report; golden files pin each format.
package report
