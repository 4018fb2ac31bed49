package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// Rules returns the metadata of the rules a selection picks.
func Rules(sel check.Selection) ([]finding.Rule, error) {
	selected, err := sel.Apply(checks.Every())
	if err != nil {
		return nil, err
	}
	out := make([]finding.Rule, len(selected))
	for i, c := range selected {
		out[i] = c.Rule
	}
	return out, nil
}

// WriteRules prints rules as a table or as a JSON array.
func WriteRules(w io.Writer, rules []finding.Rule, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rules)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE\tTAGS")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.SeverityText(), r.Title, strings.Join(r.Tags, ","))
	}
	return tw.Flush()
}
