package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sshCommand is the ssh client run for ssh:// daemons, found in PATH as the docker
// CLI finds it (tests put a wrapper first in PATH).
const sshCommand = "ssh"

// sshArgs is the command line the docker CLI runs for ssh://[USER@]HOST[:PORT]: the
// remote docker CLI's "system dial-stdio" joins the ssh session to the remote
// daemon's socket. Host keys, agents and ~/.ssh/config are ssh's own business.
func sshArgs(u *url.URL) ([]string, error) {
	if _, ok := u.User.Password(); ok {
		return nil, errors.New("an ssh:// address with a password is not taken: use a key or an ssh agent")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("ssh:// address with a path (%q): give only [user@]host[:port]", u.Path)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Hostname() == "" {
		return nil, errors.New("an ssh:// address is ssh://[user@]host[:port]")
	}
	args := []string{"-o", "ConnectTimeout=30", "-T"}
	if user := u.User.Username(); user != "" {
		args = append(args, "-l", user)
	}
	if port := u.Port(); port != "" {
		args = append(args, "-p", port)
	}
	return append(args, "--", u.Hostname(), "docker", "system", "dial-stdio"), nil
}

// dialSSH starts one ssh session and returns it as a connection.
func dialSSH(_ context.Context, args []string) (net.Conn, error) {
	cmd := exec.Command(sshCommand, args...) // #nosec G204 -- the user's own DOCKER_HOST, after "--"
	// Its own process group, killed whole on Close: a ProxyCommand or a wrapper's child
	// holding ssh's stderr must not keep Wait (and the audit) from ending.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &cmdConn{cmd: cmd, stdin: stdin, stdout: stdout, stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run ssh: %w", err)
	}
	return c, nil
}

// cmdConn is a connection over a command's standard input and output.
type cmdConn struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *tailBuffer

	waitOnce sync.Once
	waitErr  error
}

func (c *cmdConn) wait() error {
	c.waitOnce.Do(func() { c.waitErr = c.cmd.Wait() })
	return c.waitErr
}

// Read returns ssh's own complaint (connection refused, permission denied, no docker
// on the other side) when the session ends with one.
func (c *cmdConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	if n == 0 && err != nil {
		if werr := c.wait(); werr != nil {
			if msg := c.stderr.lastLine(); msg != "" {
				if !strings.HasPrefix(msg, "ssh:") {
					msg = "ssh: " + msg
				}
				return 0, errors.New(msg)
			}
			return 0, fmt.Errorf("ssh: %v", werr)
		}
	}
	return n, err
}

func (c *cmdConn) Write(p []byte) (int, error) { return c.stdin.Write(p) }

func (c *cmdConn) Close() error {
	c.stdin.Close()
	if c.cmd.Process != nil {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		c.cmd.Process.Kill()
	}
	c.wait()
	return nil
}

type sshAddr struct{}

func (sshAddr) Network() string { return "ssh" }
func (sshAddr) String() string  { return "ssh" }

func (c *cmdConn) LocalAddr() net.Addr                { return sshAddr{} }
func (c *cmdConn) RemoteAddr() net.Addr               { return sshAddr{} }
func (c *cmdConn) SetDeadline(t time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(t time.Time) error { return nil }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

// lastLine is the last non-empty line written.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
