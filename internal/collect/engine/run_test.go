package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRunner(t *testing.T) {
	var calls []string
	var created map[string]any
	sock := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		switch r.URL.Path {
		case "/_ping":
			w.Header().Set("Api-Version", "1.41")
			w.Write([]byte("OK"))
		case "/v1.41/containers/create":
			if r.URL.Query().Get("name") == "missing" {
				w.WriteHeader(404)
				w.Write([]byte(`{"message":"No such image: nope:1"}`))
				return
			}
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, &created)
			w.WriteHeader(201)
			w.Write([]byte(`{"Id":"c0ffee","Warnings":[]}`))
		case "/v1.41/containers/c0ffee/start", "/v1.41/containers/c0ffee/stop":
			w.WriteHeader(204)
		case "/v1.41/containers/c0ffee/wait":
			w.Write([]byte(`{"StatusCode":3,"Error":null}`))
		case "/v1.41/containers/c0ffee":
			w.WriteHeader(204)
		case "/v1.41/containers/c0ffee/logs":
			// Two frames: stdout "hi\n", stderr "oops\n".
			w.Write([]byte("\x01\x00\x00\x00\x00\x00\x00\x03hi\n\x02\x00\x00\x00\x00\x00\x00\x05oops\n"))
		}
	}))
	c, err := New(Env{Host: "unix://" + sock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Negotiate(ctx); err != nil {
		t.Fatal(err)
	}
	run := c.Runner()
	id, err := run.Create(ctx, "", Spec{Image: "busybox:1", Cmd: []string{"true"}, SecurityOpt: []string{"seccomp={}"}, Binds: []string{"/a:/b:ro"}})
	if err != nil || id != "c0ffee" {
		t.Fatalf("Create = %q, %v", id, err)
	}
	if created["Image"] != "busybox:1" || created["Entrypoint"] != nil || created["HostConfig"].(map[string]any)["SecurityOpt"].([]any)[0] != "seccomp={}" {
		t.Errorf("create body %v", created)
	}
	if err := run.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if code, err := run.Wait(ctx, id); code != 3 || err != nil {
		t.Errorf("Wait = %d, %v", code, err)
	}
	if err := run.Stop(ctx, id, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if logs, err := run.Logs(ctx, id, 20); logs != "hi\noops\n" || err != nil {
		t.Errorf("Logs = %q, %v", logs, err)
	}
	if err := run.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = run.Create(ctx, "missing", Spec{Image: "nope:1"})
	if !IsNotFound(err) || err.Error() != "POST /containers/create: 404 No such image: nope:1" {
		t.Errorf("Create missing = %v", err)
	}
	want := []string{
		"GET /_ping?",
		"POST /v1.41/containers/create?",
		"POST /v1.41/containers/c0ffee/start?",
		"POST /v1.41/containers/c0ffee/wait?condition=not-running",
		"POST /v1.41/containers/c0ffee/stop?t=2",
		"GET /v1.41/containers/c0ffee/logs?stderr=1&stdout=1&tail=20",
		"DELETE /v1.41/containers/c0ffee?force=1&v=1",
		"POST /v1.41/containers/create?name=missing",
	}
	if d := cmp.Diff(want, calls); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestDemux(t *testing.T) {
	if got := demux([]byte("plain tty output\n")); got != "plain tty output\n" {
		t.Errorf("tty = %q", got)
	}
	if got := demux([]byte("\x01\x00\x00\x00\x00\x00\x00\x09short")); got != "\x01\x00\x00\x00\x00\x00\x00\x09short" {
		t.Errorf("truncated frame = %q", got)
	}
}
