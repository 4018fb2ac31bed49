package integration

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// screen runs dockaudit in a real terminal of the given width (a detached tmux
// session) and returns the screen as a person would read it (tmux capture-pane).
func screen(t *testing.T, width int, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Missing(t, "no tmux (apt-get install tmux)")
	}
	sock := fmt.Sprintf("dockaudit-test-%d", width)
	tmux := func(a ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", sock}, a...)...).CombinedOutput()
		return string(out), err
	}
	cmd := "DOCKER_HOST= DOCKER_CONTEXT= " + binary + " " + strings.Join(args, " ") + "; echo '[exit' $?']'; sleep 600"
	if out, err := tmux("new-session", "-d", "-x", fmt.Sprint(width), "-y", "300", "-s", "t", cmd); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { tmux("kill-server") })
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "t")
		if err == nil && strings.Contains(out, "[exit ") {
			// -J joins wrapped lines: a line the terminal itself wrapped would show
			// longer than the width here.
			return strings.Split(strings.TrimRight(out, "\n"), "\n")
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockaudit did not finish in the terminal:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTableInATerminal reads the table as a person sees it, at 80 and at 200
// columns: nothing passes the edge, details sit where there is room for them,
// containers come in natural order (hx-2 before hx-10), and a list of containers is
// named once and referred to by the rules after.
func TestTableInATerminal(t *testing.T) {
	need(t)
	image(t, "hx-busybox:1")
	for i := 1; i <= 11; i++ {
		name := fmt.Sprintf("hx-%d", i)
		exec.Command("docker", "rm", "-f", name).Run()
		run := []string{"run", "-d", "--name", name, "--label", "dockaudit-test=table"}
		if i == 1 { // one container apart, so the others are a list, not "all"
			run = append(run, "--user", "1000", "--memory", "64m", "--cpu-shares", "512")
		}
		docker(t, append(run, "hx-busybox:1", "/bin/sleep", "600")...)
		t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	}
	args := []string{"host", "--fail-on", "medium", "--include", "CIS-4.1,CIS-5.11,CIS-5.12,CIS-5.28"}
	for _, width := range []int{80, 200} {
		lines := screen(t, width, args...)
		text := strings.Join(lines, "\n")
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("%d columns: a line of %d: %q", width, n, l)
			}
		}
		// Details: at column 4 on a narrow terminal, under the titles (32) on a wide one.
		indent := map[int]string{80: "    ", 200: strings.Repeat(" ", 32)}[width]
		var order []string
		for _, l := range lines {
			if strings.HasPrefix(l, indent+"hx-") || strings.HasPrefix(l, indent+"  hx-") {
				for _, name := range strings.Split(strings.TrimSpace(l), ", ") {
					order = append(order, strings.TrimSuffix(strings.Fields(name)[0], ","))
				}
			}
		}
		if i2, i10 := index(order, "hx-2"), index(order, "hx-10"); i2 < 0 || i10 < 0 || i2 > i10 {
			t.Errorf("%d columns: containers not in natural order: %q\n%s", width, order, text)
		}
		if !strings.Contains(text, indent+"has no memory limit (") || !strings.Contains(text, "containers: the same as CIS-4.1)") {
			t.Errorf("%d columns: the container list is not named once and referred to:\n%s", width, text)
		}
		if !strings.Contains(text, "[exit 3]") {
			t.Errorf("%d columns: exit code not 3:\n%s", width, text)
		}
	}
}

func index(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
