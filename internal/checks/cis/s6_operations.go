package cis

import (
	"fmt"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func section6() []check.Check {
	return []check.Check{
		cis6_1(),
		cis6_2(),
	}
}

// cis6_1 is CIS 6.1: Ensure that image sprawl is avoided.
func cis6_1() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that image sprawl is avoided",
			Description: "Many stale or untagged images clutter the host, and old images with vulnerabilities may be instantiated by mistake.",
			Remediation: "Keep only needed images: regularly list them (`docker images`, `docker system df`) and remove unused ones (`docker image prune -a`, `docker rmi`); pull by digest where possible.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "6.1", Level: 1, Automated: false, V180: "6.1"},
		},
		Run: run6_1,
	}
}

func run6_1(p *check.Pass) {
	used := map[string]bool{}
	for _, c := range p.Facts.Containers {
		used[c.ImageID] = true
	}
	var unused, dangling int
	for _, im := range p.Facts.Images {
		if !used[im.ID] {
			unused++
		}
		if len(im.Tags) == 0 {
			dangling++
		}
	}
	scope := "running"
	if p.Facts.IncludesStopped {
		scope = "audited"
	}
	p.Info(fmt.Sprintf("%d images: %d used by %s containers, %d not used, %d untagged", len(p.Facts.Images), len(p.Facts.Images)-unused, scope, unused, dangling),
		ev("images", fmt.Sprint(len(p.Facts.Images)), ""), ev("not used by "+scope+" containers", fmt.Sprint(unused), ""), ev("untagged", fmt.Sprint(dangling), "0"))
}

// cis6_2 is CIS 6.2: Ensure that container sprawl is avoided.
func cis6_2() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that container sprawl is avoided",
			Description: "Large numbers of stopped or unused containers waste resources and make inventory and auditing harder.",
			Remediation: "Periodically review `docker ps -a` and remove unused containers with `docker container prune` or `docker rm`.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "6.2", Level: 1, Automated: false, V180: "6.2"},
		},
		Run: run6_2,
	}
}

func run6_2(p *check.Pass) {
	e := p.Facts.Engine
	stopped := e.ContainersTotal - e.ContainersRunning
	p.Info(fmt.Sprintf("%d containers: %d running, %d not running", e.ContainersTotal, e.ContainersRunning, stopped),
		ev("containers", fmt.Sprint(e.ContainersTotal), ""), ev("not running", fmt.Sprint(stopped), ""))
}
