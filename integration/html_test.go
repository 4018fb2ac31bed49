package integration

import (
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// TestHTMLInChromium opens --format html reports in the real, headless Chromium:
// the debootstrap image matched against an advisory (a vulnerability table), and a
// repository's Dockerfile and Compose file. Every finding is in the page once the
// script has run, the filters' count is the findings not passing, nothing is
// reported on the console (a blocked style or script would be), and screenshots at
// desktop and phone widths are read back.
func TestHTMLInChromium(t *testing.T) {
	need(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Missing(t, "no chromium (apt-get install chromium)")
	}
	root := bookwormRoot(t)
	src := ""
	for _, line := range dpkgQuery(t, root) {
		if f := strings.Split(line, "\t"); f[3] == "bash" {
			src = f[4]
		}
	}
	dir := t.TempDir()
	b, _ := json.Marshal(map[string]any{"bash": map[string]any{"CVE-2099-2001": map[string]any{"releases": map[string]any{"bookworm": map[string]any{
		"status": "resolved", "fixed_version": src + "+fix1", "urgency": "high", "repositories": map[string]string{"bookworm": "1"}}}}}})
	os.WriteFile(filepath.Join(dir, "tracker.json"), b, 0o644)
	db := importDB(t, dir)
	tag := "dockaudit-it-html:1"
	importRoot(t, root, tag)

	repo := t.TempDir()
	os.WriteFile(filepath.Join(repo, "Dockerfile"), []byte("FROM debian:12\nRUN apt-get update\nCOPY . /app\n"), 0o644)
	os.WriteFile(filepath.Join(repo, ".env"), []byte("API_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "compose.yaml"), []byte("services:\n  web:\n    build: .\n    privileged: true\n    ports: [\"8080:80\"]\n"), 0o644)

	for name, args := range map[string][]string{
		"image":  {"image", "--db-dir", db, tag},
		"config": {"config", repo},
	} {
		t.Run(name, func(t *testing.T) {
			page := filepath.Join(t.TempDir(), name+".html")
			if r := dockaudit(t, nil, append(args, "--fail-on", "none", "--format", "html", "--output", page)...); r.code != 0 {
				t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
			}
			rep := jsonReport(t, nil, append(args, "--fail-on", "none")...)
			html, _ := os.ReadFile(page)
			if strings.Contains(string(html), "ghp_0123456789") {
				t.Error("the page shows a secret")
			}
			dom, console := chrome(t, chromium, page, "--dump-dom")
			if console != "" {
				t.Errorf("console messages (a blocked style or script, an error):\n%s", console)
			}
			if n := strings.Count(dom, `<tr class="finding`); n != len(rep.Findings) || n == 0 {
				t.Errorf("%d finding rows in the page, %d findings in the report", n, len(rep.Findings))
			}
			notPass := 0
			for _, f := range rep.Findings {
				if f.Status.String() != "pass" {
					notPass++
				}
			}
			if m := regexp.MustCompile(`id="shown"[^>]*>(\d+) findings shown<`).FindStringSubmatch(dom); m == nil || m[1] != strconv.Itoa(notPass) {
				t.Errorf("the filters show %v, want %d (every finding but the passes)", m, notPass)
			}
			if name == "image" && (!strings.Contains(dom, "<td>CVE-2099-2001</td>") || !strings.Contains(dom, `<table class="packages">`)) {
				t.Error("no vulnerability or package table")
			}
			for _, width := range []int{1280, 390} {
				shot := filepath.Join(t.TempDir(), "shot.png")
				chrome(t, chromium, page, "--window-size="+strconv.Itoa(width)+",1600", "--screenshot="+shot)
				checkScreenshot(t, shot, width, rep)
			}
		})
	}
}

// chrome runs headless Chromium on a page; it returns stdout and the console lines.
func chrome(t *testing.T, chromium, page string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(chromium, append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + t.TempDir()}, append(args, "file://"+page)...)...)
	r := run(t, cmd)
	if r.code != 0 {
		t.Fatalf("chromium %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var console []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return r.stdout, strings.Join(console, "\n")
}

// checkPage reads a screenshot back: its width, and enough that is not background
// (a blank page fails).
func checkPage(t *testing.T, path string, width int) {
	t.Helper()
	_, _, other := screenshotColours(t, path, width)
	if other < 1000 {
		t.Errorf("%d-pixel screenshot: %d pixels not background: a blank page", width, other)
	}
}

// screenshotColours counts, in a screenshot (checked to be width wide), the fail
// badge's red, the pass bar's green, and other non-background pixels.
func screenshotColours(t *testing.T, path string, width int) (red, green, other int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != width {
		t.Errorf("screenshot %d pixels wide, want %d", img.Bounds().Dx(), width)
	}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			r, g, b = r>>8, g>>8, b>>8
			switch {
			case r > 180 && r < 215 && g > 30 && g < 55 && b > 30 && b < 55: // #c62828
				red++
			case r > 30 && r < 60 && g > 110 && g < 140 && b > 35 && b < 60: // #2e7d32
				green++
			case r < 240 || g < 240 || b < 240:
				other++
			}
		}
	}
	return red, green, other
}

// checkScreenshot reads a screenshot back: its width, and the colours a report shows
// (the fail badge's red, the pass bar's green), so a blank or unstyled page fails.
func checkScreenshot(t *testing.T, path string, width int, rep *report.Report) {
	t.Helper()
	red, green, other := screenshotColours(t, path, width)
	fails := rep.Summary.Findings.Fail > 0
	if (fails && red == 0) || (rep.Summary.Findings.Pass > 0 && green == 0) || other < 1000 {
		t.Errorf("%d-pixel screenshot: %d red, %d green, %d other pixels: not the styled report", width, red, green, other)
	}
}
