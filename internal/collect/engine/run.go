package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Runner creates, starts, waits for and removes containers. Only dockaudit seccomp
// record uses it, to run the workload the user named; the audits read through Get
// and never write.
type Runner struct{ c *Client }

// Runner returns the client's container runner.
func (c *Client) Runner() Runner { return Runner{c} }

// Spec is the container a Runner creates.
type Spec struct {
	Image       string
	Cmd         []string // nil: the image's
	Entrypoint  []string // nil: the image's
	User        string
	Env         []string
	SecurityOpt []string
	Binds       []string
	NetworkMode string
	CapAdd      []string
	CapDrop     []string
}

func (r Runner) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	c := r.c
	if c.version == "" {
		return errors.New("engine client: Negotiate was not called")
	}
	u := c.base + "/v" + c.version + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.connErr(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		se := statusError(path, resp).(*StatusError)
		se.Method = method
		return se
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// Create creates a container and returns its ID.
func (r Runner) Create(ctx context.Context, name string, s Spec) (string, error) {
	body := map[string]any{
		"Image": s.Image, "User": s.User, "Env": s.Env, "AttachStdout": false, "AttachStderr": false,
		"HostConfig": map[string]any{"SecurityOpt": s.SecurityOpt, "Binds": s.Binds, "NetworkMode": s.NetworkMode,
			"CapAdd": s.CapAdd, "CapDrop": s.CapDrop},
	}
	if s.Cmd != nil {
		body["Cmd"] = s.Cmd
	}
	if s.Entrypoint != nil {
		body["Entrypoint"] = s.Entrypoint
	}
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	var out struct{ ID string }
	if err := r.do(ctx, http.MethodPost, "/containers/create", q, body, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// Start starts a created container.
func (r Runner) Start(ctx context.Context, id string) error {
	return r.do(ctx, http.MethodPost, "/containers/"+url.PathEscape(id)+"/start", nil, nil, nil)
}

// Wait blocks until the container is not running and returns its exit code.
func (r Runner) Wait(ctx context.Context, id string) (int, error) {
	var out struct {
		StatusCode int
		Error      *struct{ Message string }
	}
	err := r.do(ctx, http.MethodPost, "/containers/"+url.PathEscape(id)+"/wait", url.Values{"condition": {"not-running"}}, nil, &out)
	if err != nil {
		return 0, err
	}
	if out.Error != nil && out.Error.Message != "" {
		return out.StatusCode, errors.New(out.Error.Message)
	}
	return out.StatusCode, nil
}

// Stop stops a container, killing it after grace.
func (r Runner) Stop(ctx context.Context, id string, grace time.Duration) error {
	q := url.Values{"t": {strconv.Itoa(int(grace.Seconds()))}}
	return r.do(ctx, http.MethodPost, "/containers/"+url.PathEscape(id)+"/stop", q, nil, nil)
}

// Remove removes a container and its anonymous volumes, running or not.
func (r Runner) Remove(ctx context.Context, id string) error {
	return r.do(ctx, http.MethodDelete, "/containers/"+url.PathEscape(id), url.Values{"force": {"1"}, "v": {"1"}}, nil, nil)
}

// Logs returns the last lines of a container's output (stdout and stderr merged).
func (r Runner) Logs(ctx context.Context, id string, tail int) (string, error) {
	c := r.c
	u := c.base + "/v" + c.version + "/containers/" + url.PathEscape(id) + "/logs?" +
		url.Values{"stdout": {"1"}, "stderr": {"1"}, "tail": {strconv.Itoa(tail)}}.Encode()
	resp, err := c.get(ctx, u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", statusError("/containers/"+id+"/logs", resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	return demux(b), nil
}

// demux joins the frames of a non-TTY log stream: an 8-byte header (stream, 3 zero
// bytes, big-endian length) before each chunk.
func demux(b []byte) string {
	var sb strings.Builder
	for len(b) >= 8 {
		n := int(binary.BigEndian.Uint32(b[4:8]))
		if b[0] > 2 || b[1] != 0 || n > len(b)-8 {
			sb.Write(b) // not multiplexed (a TTY container)
			return sb.String()
		}
		sb.Write(b[8 : 8+n])
		b = b[8+n:]
	}
	return sb.String()
}
