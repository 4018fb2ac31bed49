package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// DefaultConfigFile is where dockerd reads daemon.json unless --config-file says otherwise.
const DefaultConfigFile = "/etc/docker/daemon.json"

// boolFlags are the dockerd flags that take no separate value ("--icc=false" or "--icc").
var boolFlags = map[string]bool{
	"cri-containerd": true, "debug": true, "experimental": true, "help": true, "icc": true,
	"init": true, "ip-forward": true, "ip-forward-no-drop": true, "ip-masq": true,
	"ip6tables": true, "iptables": true, "ipv6": true, "live-restore": true,
	"no-new-privileges": true, "raw-logs": true, "rootless": true, "selinux-enabled": true,
	"tls": true, "tlsverify": true, "userland-proxy": true, "validate": true, "version": true,
	"disable-legacy-registry": true, "allow-direct-routing": true,
}

// shortFlags maps dockerd's one-letter flags to their long names.
var shortFlags = map[string]string{
	"D": "debug", "H": "host", "G": "group", "l": "log-level", "p": "pidfile",
	"b": "bridge", "s": "storage-driver", "g": "graph", "v": "version", "h": "help",
}

// jsonKey maps a flag's long name to the daemon.json key of the same option where they
// differ (mostly plurals of repeatable flags).
var jsonKey = map[string]string{
	"host": "hosts", "insecure-registry": "insecure-registries",
	"authorization-plugin": "authorization-plugins", "default-ulimit": "default-ulimits",
	"storage-opt": "storage-opts", "log-opt": "log-opts", "registry-mirror": "registry-mirrors",
	"exec-opt": "exec-opts", "label": "labels", "dns-opt": "dns-opts", "add-runtime": "runtimes",
	"node-generic-resource": "node-generic-resources", "default-address-pool": "default-address-pools",
	"cluster-store-opt": "cluster-store-opts", "graph": "data-root",
	"allow-nondistributable-artifact": "allow-nondistributable-artifacts",
}

// ParseArgs turns a dockerd argv (without argv[0]) into settings keyed by daemon.json
// names. Repeated flags accumulate; "--icc" alone means true. Unknown flags are kept
// under their own name, assumed to take a value unless written with "=".
func ParseArgs(args []string) (map[string]facts.Setting, error) {
	out := map[string]facts.Setting{}
	put := func(name, value, raw string) {
		key := name
		if k, ok := jsonKey[name]; ok {
			key = k
		}
		s := out[key]
		s.Values = append(s.Values, value)
		s.Source = "flag " + raw
		if len(s.Values) > 1 {
			s.Source = "flags --" + name
		}
		out[key] = s
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		var name, value string
		hasValue := false
		switch {
		case strings.HasPrefix(a, "--"):
			name, value, hasValue = strings.Cut(a[2:], "=")
		case strings.HasPrefix(a, "-") && len(a) > 1:
			short := a[1:2]
			long, ok := shortFlags[short]
			if !ok {
				return nil, fmt.Errorf("unknown dockerd flag %q", a)
			}
			name = long
			if rest := a[2:]; rest != "" {
				value, hasValue = strings.TrimPrefix(rest, "="), true
			}
		default:
			continue // dockerd takes no positional arguments; ignore stray words
		}
		if name == "" {
			return nil, fmt.Errorf("malformed dockerd flag %q", a)
		}
		if !hasValue {
			if boolFlags[name] {
				value = "true"
			} else {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("dockerd flag %q has no value", a)
				}
				i++
				value = args[i]
			}
		} else if boolFlags[name] {
			if _, err := strconv.ParseBool(value); err != nil {
				return nil, fmt.Errorf("dockerd flag %q: %q is not a boolean", a, value)
			}
		}
		put(name, value, displayFlag(name, value))
	}
	return out, nil
}

func displayFlag(name, value string) string {
	if value == "true" && boolFlags[name] {
		return "--" + name
	}
	return "--" + name + "=" + value
}

// ParseConfigFile reads a daemon.json into settings. Scalars become one value, arrays one
// value per element, and objects one "key=value" entry per member, sorted.
func ParseConfigFile(b []byte) (map[string]facts.Setting, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse daemon.json: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("parse daemon.json: the file holds null, not an object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("parse daemon.json: unexpected data after the top-level object")
	}
	out := map[string]facts.Setting{}
	for k, v := range raw {
		vals, err := flatten(v)
		if err != nil {
			return nil, fmt.Errorf("parse daemon.json key %q: %w", k, err)
		}
		out[k] = facts.Setting{Values: vals, Source: "daemon.json"}
	}
	return out, nil
}

func flatten(v json.RawMessage) ([]string, error) {
	var x any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	switch t := x.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, scalar(e))
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]string, 0, len(keys))
		for _, k := range keys {
			out = append(out, k+"="+scalar(t[k]))
		}
		return out, nil
	default:
		return []string{scalar(t)}, nil
	}
}

func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return t.String()
	case nil:
		return ""
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// Merge combines flags and daemon.json. dockerd refuses to start when an option is in
// both, so a running daemon has each option from one place; flags win if both appear.
func Merge(flags, file map[string]facts.Setting) map[string]facts.Setting {
	out := make(map[string]facts.Setting, len(flags)+len(file))
	for k, v := range file {
		out[k] = v
	}
	for k, v := range flags {
		out[k] = v
	}
	return out
}
