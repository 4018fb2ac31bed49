package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
)

const completionUsage = `Usage: dockaudit completion [flags] bash|zsh|fish

Prints a script that completes dockaudit's commands, subcommands and flags in the
shell, generated from the flags the commands really take. A flag that takes a value
completes file names.

Examples:
  source <(dockaudit completion bash)          # in ~/.bashrc
  source <(dockaudit completion zsh)           # in ~/.zshrc, after compinit
  dockaudit completion fish > ~/.config/fish/completions/dockaudit.fish
`

func runCompletion(args []string, e env) int {
	fs := newFlagSet("completion", completionUsage)
	pos, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(pos) != 1 || !slices.Contains([]string{"bash", "zsh", "fish"}, pos[0]) {
		fmt.Fprintln(e.stderr, "dockaudit completion: name one shell: bash, zsh or fish")
		return exitUsage
	}
	cmds, err := describeAll()
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit completion: %v\n", err)
		return exitFailed
	}
	switch pos[0] {
	case "bash":
		fmt.Fprint(e.stdout, bashCompletion(cmds))
	case "zsh":
		// zsh runs the bash completion through its bashcompinit; the script is
		// sourced (an autoloaded _dockaudit would redefine itself on the first TAB).
		fmt.Fprint(e.stdout, "# source this file (from ~/.zshrc): compinit must have run\nautoload -U +X bashcompinit && bashcompinit\n"+bashCompletion(cmds))
	case "fish":
		fmt.Fprint(e.stdout, fishCompletion(cmds))
	}
	return exitOK
}

// children are the words that may follow a command path: its subcommands.
func children(cmds []cmdInfo) map[string][]string {
	out := map[string][]string{}
	for _, c := range cmds {
		for i := range c.Path {
			parent := strings.Join(c.Path[:i], " ")
			if !slices.Contains(out[parent], c.Path[i]) {
				out[parent] = append(out[parent], c.Path[i])
			}
		}
	}
	out[""] = append(out[""], "version", "help")
	return out
}

func flagWords(c cmdInfo) (all, valued []string) {
	for _, f := range c.Flags {
		all = append(all, "--"+f.Long)
		if f.Short != "" {
			all = append(all, "-"+f.Short)
		}
		if f.Value != "" {
			valued = append(valued, "--"+f.Long)
			if f.Short != "" {
				valued = append(valued, "-"+f.Short)
			}
		}
	}
	return all, valued
}

func bashCompletion(cmds []cmdInfo) string {
	var b strings.Builder
	b.WriteString(`# dockaudit completion for bash (dockaudit completion bash)
_dockaudit() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path="" i w words="" flags="" valued=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case "$w" in -*) continue ;; esac
        case " $(_dockaudit_children "$path") " in
        *" $w "*) path="${path:+$path }$w" ;;
        esac
    done
    words=$(_dockaudit_children "$path")
    case "$path" in
`)
	for _, c := range cmds {
		all, valued := flagWords(c)
		fmt.Fprintf(&b, "    %q) flags=%q valued=%q ;;\n", strings.Join(c.Path, " "), strings.Join(all, " "), strings.Join(valued, " "))
	}
	b.WriteString(`    esac
    COMPREPLY=()
    case " $valued " in
    *" $prev "*) _dockaudit_files; return ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
    elif [[ -n $words ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
    else
        _dockaudit_files
    fi
}
# File names one per reply, whatever they hold, quoted by bash when inserted.
_dockaudit_files() {
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}
_dockaudit_children() {
    case "$1" in
`)
	kids := children(cmds)
	parents := slices.Sorted(maps.Keys(kids))
	for _, p := range parents {
		fmt.Fprintf(&b, "    %q) echo %q ;;\n", p, strings.Join(kids[p], " "))
	}
	b.WriteString(`    esac
}
complete -o default -F _dockaudit dockaudit
`)
	return b.String()
}

func fishCompletion(cmds []cmdInfo) string {
	var b strings.Builder
	// The command path is printed as one word ("-" for none), so conditions compare
	// it with test on any fish version.
	b.WriteString(`# dockaudit completion for fish (dockaudit completion fish)
function __dockaudit_path
    set -l tokens (commandline -opc)
    set -l path
    for t in $tokens[2..-1]
        string match -q -- '-*' $t; and continue
        contains -- $t (__dockaudit_children (string join ' ' $path)); and set path $path $t
    end
    if test (count $path) -eq 0
        echo -
    else
        string join . $path
    end
end
function __dockaudit_children
    switch "$argv[1]"
`)
	kids := children(cmds)
	parents := slices.Sorted(maps.Keys(kids))
	for _, p := range parents {
		fmt.Fprintf(&b, "        case '%s'\n            printf '%%s\\n' %s\n", p, strings.Join(kids[p], " "))
	}
	b.WriteString("    end\nend\n")
	key := func(path string) string {
		if path == "" {
			return "-"
		}
		return strings.ReplaceAll(path, " ", ".")
	}
	for _, p := range parents {
		for _, k := range kids[p] {
			// -f: where a subcommand is expected, no file names.
			fmt.Fprintf(&b, "complete -c dockaudit -n 'test (__dockaudit_path) = %s' -f -a %s\n", key(p), k)
		}
	}
	for _, c := range cmds {
		for _, f := range c.Flags {
			line := fmt.Sprintf("complete -c dockaudit -n 'test (__dockaudit_path) = %s' -l %s", key(strings.Join(c.Path, " ")), f.Long)
			if f.Short != "" {
				line += " -s " + f.Short
			}
			if f.Value != "" {
				line += " -r -F"
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
