package enginetest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Daemon is a recorded Engine API (a directory of answers named as in
// internal/collect/engine/testdata/api: info.json, containers.json,
// container-ID.json, top-ID.json, image-ID.json, …).
type Daemon struct {
	Dir string
	// Clones, when above zero, serves that many containers: copies of the recorded
	// ones in turn, each with its own ID and name.
	Clones int
	// Edit, when set, may change a decoded answer before it is served (set HostConfig
	// to nil, say); path is the API path without its version prefix.
	Edit func(path string, answer map[string]any)
	// Gone lists container IDs whose inspect answers 404, as if removed mid-audit.
	Gone map[string]bool
	// Replace, when it returns true, serves body (raw JSON, "null" say) for a path
	// instead of the recorded answer.
	Replace func(path string) (body string, ok bool)
}

// Start serves the daemon on a unix socket in a temporary directory and returns the
// DOCKER_HOST to reach it.
func Start(t testing.TB, d Daemon) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: d.handler(t)}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

func (d Daemon) handler(t testing.TB) http.Handler {
	read := func(name string) (any, error) {
		b, err := os.ReadFile(filepath.Join(d.Dir, name))
		if err != nil {
			return nil, err
		}
		var v any
		return v, json.Unmarshal(b, &v)
	}
	recorded, err := read("containers.json")
	if err != nil {
		t.Fatal(err)
	}
	summaries, _ := recorded.([]any)
	clone := func(i int) (id, of string) {
		of = summaries[i%len(summaries)].(map[string]any)["Id"].(string)
		return fmt.Sprintf("%064x", i+1), of
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("the audit sent %s %s: it must only read", r.Method, r.URL.Path)
		}
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.41")
			w.Write([]byte("OK"))
			return
		}
		path := r.URL.Path
		if strings.HasPrefix(path, "/v1.") {
			path = path[strings.IndexByte(path[1:], '/')+1:]
		}
		if d.Replace != nil {
			if body, ok := d.Replace(path); ok {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(body))
				return
			}
		}
		parts := strings.Split(strings.Trim(path, "/"), "/")
		var answer any
		var err error
		switch {
		case len(parts) == 1:
			if d.Clones > 0 && parts[0] == "containers" {
				break
			}
			answer, err = read(parts[0] + ".json")
		case parts[0] == "containers" && parts[1] == "json" && d.Clones > 0:
			list := make([]any, d.Clones)
			for i := range list {
				id, of := clone(i)
				s := copyOf(summaries[i%len(summaries)]).(map[string]any)
				s["Id"], s["Names"] = id, []any{fmt.Sprintf("/clone-%d-of-%s", i, of[:12])}
				list[i] = s
			}
			answer = list
		case parts[0] == "containers" && parts[1] == "json":
			answer = recorded
		case parts[0] == "containers" && len(parts) == 3 && d.Gone[parts[1]] && parts[2] == "json":
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]string{"message": "No such container: " + parts[1]})
			return
		case parts[0] == "containers" && len(parts) == 3:
			id := parts[1]
			if d.Clones > 0 {
				var n int
				fmt.Sscanf(id, "%x", &n)
				if n < 1 || n > d.Clones {
					http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
					return
				}
				_, id = clone(n - 1)
			}
			kind := map[string]string{"json": "container-", "top": "top-"}[parts[2]]
			answer, err = read(kind + id + ".json")
			if m, ok := answer.(map[string]any); ok && parts[2] == "json" && d.Clones > 0 {
				m["Id"] = parts[1]
				m["Name"] = "/clone-" + parts[1][48:]
			}
		case parts[0] == "images" && len(parts) == 2 && parts[1] == "json":
			answer, err = read("images.json")
		case parts[0] == "images" && len(parts) == 3:
			kind := map[string]string{"json": "image-", "history": "history-"}[parts[2]]
			answer, err = read(kind + strings.TrimPrefix(parts[1], "sha256:") + ".json")
		default:
			err = os.ErrNotExist
		}
		if err != nil {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]string{"message": "not recorded: " + path})
			return
		}
		if m, ok := answer.(map[string]any); ok && d.Edit != nil {
			d.Edit(path, m)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer)
	})
}

// copyOf is a deep copy of a decoded JSON value.
func copyOf(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = copyOf(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = copyOf(e)
		}
		return s
	}
	return v
}
