package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// TestListFollowsPages pages through a catalog of 2,500 repositories as distribution
// serves it (n and last, a Link header), and refuses a next page on another host.
func TestListFollowsPages(t *testing.T) {
	var all []string
	for i := range 2500 {
		all = append(all, fmt.Sprintf("repo%04d", i))
	}
	evil := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/_catalog" {
			http.NotFound(w, r)
			return
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		last := r.URL.Query().Get("last")
		i, _ := slices.BinarySearch(all, last)
		if last != "" {
			i++
		}
		end := min(len(all), i+n)
		if end < len(all) {
			next := fmt.Sprintf("/v2/_catalog?last=%s&n=%d", all[end-1], n)
			if evil {
				next = "http://attacker.example" + next
			}
			w.Header().Set("Link", "<"+next+`>; rel="next"`)
		}
		fmt.Fprintf(w, `{"repositories":["%s"]}`, strings.Join(all[i:end], `","`))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c := &Client{}
	got, err := c.Catalog(context.Background(), host)
	if err != nil || !slices.Equal(got, all) {
		t.Fatalf("catalog: %d entries, %v", len(got), err)
	}
	evil = true
	if _, err := c.Catalog(context.Background(), host); err == nil || !strings.Contains(err.Error(), "the next page is not on the registry") {
		t.Fatalf("a next page on another host: %v", err)
	}
	repo, _ := name.NewRepository(host+"/none", name.Insecure)
	if _, err := c.Tags(context.Background(), repo); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("tags of a missing repository: %v", err)
	}
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{"http://127.0.0.1:5000": "127.0.0.1:5000", "https://r.example/": "r.example", "ftp://x": "", "r.example": "", "https://r.example/v2": ""} {
		got, err := HostOf(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("HostOf(%q) = %q, %v", in, got, err)
		}
	}
}
