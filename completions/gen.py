#!/usr/bin/env python3
"""Writes shell completions and the man page of faultline from its own --help.

Usage: gen.py FAULTLINE KIND OUT      KIND: bash, zsh, fish or man

Every command's --help is printed from its option table (src/cli/cli_opts.c), so reading it
back gives exactly the options the binary accepts, with their argument names and choices
("--format text|md|json|html"); nothing here lists an option by hand. Internal options have
no help line and stay out of the completions too. Run by meson at build time; the results are
installed by `meson install`.
"""

import re
import subprocess
import sys

OPT_RE = re.compile(r"^  (?:-(?P<short>\w), |    )--(?P<long>[a-z0-9-]+)(?: (?P<arg>\S+))?(?:\s+(?P<help>.*))?$")


def run_help(faultline, args):
    p = subprocess.run([faultline] + args + ["--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    return p.stdout.decode()


def commands(faultline):
    text = run_help(faultline, [])
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    out = []
    for line in block.splitlines():
        m = re.match(r"^  (\S+)\s+(.*)$", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def parse(text):
    """(usage line, summary, [options], epilog) from one command's --help."""
    lines = text.splitlines()
    usage = lines[0][len("Usage: "):] if lines and lines[0].startswith("Usage: ") else ""
    summary, opts, epilog = [], [], []
    state = "summary"
    for line in lines[1:]:
        if line == "Options:":
            state = "options"
            continue
        if state == "summary":
            if line.strip():
                summary.append(line.strip())
            continue
        if state == "options":
            m = OPT_RE.match(line)
            if m and m.group("long") == "help":
                continue
            if m:
                opts.append({"short": m.group("short"), "long": m.group("long"),
                             "arg": m.group("arg"), "help": (m.group("help") or "").strip()})
            elif line.startswith(" " * 30) and opts:
                opts[-1]["help"] = (opts[-1]["help"] + " " + line.strip()).strip()
            elif not line.strip():
                state = "epilog"
            continue
        epilog.append(line)
    return usage, " ".join(summary), opts, "\n".join(epilog).strip("\n")


def spec(faultline):
    cmds = []
    for name, desc in commands(faultline):
        if name == "patterns":
            for sub in ("check", "list"):
                usage, summary, opts, epilog = parse(run_help(faultline, ["patterns", sub]))
                cmds.append({"name": f"patterns {sub}", "desc": summary or desc, "usage": usage,
                             "opts": opts, "epilog": epilog})
            continue
        usage, summary, opts, epilog = parse(run_help(faultline, [name]))
        cmds.append({"name": name, "desc": desc, "usage": usage, "opts": opts,
                     "summary": summary, "epilog": epilog})
    return cmds


SEVERITIES = ["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"]


def choices(o):
    a = o["arg"] or ""
    if a == "LEVEL":
        return SEVERITIES
    return a.split("|") if "|" in a else None


def takes_file(o):
    return (o["arg"] or "") in ("FILE", "DIR", "PATH")


def bash(cmds):
    top = " ".join(sorted({c["name"].split()[0] for c in cmds}))
    out = ["# bash completion for faultline (generated from its --help by completions/gen.py)",
           "_faultline() {",
           "    local cur prev words cword",
           "    _init_completion 2>/dev/null || { cur=${COMP_WORDS[COMP_CWORD]};"
           " prev=${COMP_WORDS[COMP_CWORD-1]}; words=(\"${COMP_WORDS[@]}\"); cword=$COMP_CWORD; }",
           f"    if [[ $cword -eq 1 ]]; then COMPREPLY=($(compgen -W '{top} --help --version'"
           " -- \"$cur\")); return; fi",
           "    local cmd=${words[1]}",
           "    [[ $cmd == patterns && $cword -eq 2 ]] && { COMPREPLY=($(compgen -W 'check list'"
           " -- \"$cur\")); return; }",
           "    [[ $cmd == patterns ]] && cmd=\"patterns ${words[2]}\"",
           "    case \"$cmd\" in"]
    for c in cmds:
        longs = " ".join(f"--{o['long']}" for o in c["opts"]) + " --help"
        out.append(f"    \"{c['name']}\")")
        out.append("        case \"$prev\" in")
        for o in c["opts"]:
            names = f"--{o['long']}" + (f"|-{o['short']}" if o["short"] else "")
            ch = choices(o)
            if ch:
                out.append(f"            {names}) COMPREPLY=($(compgen -W '{' '.join(ch)}'"
                           " -- \"$cur\")); return;;")
            elif o["arg"] and (o["arg"] == "DIR"):
                out.append(f"            {names}) COMPREPLY=($(compgen -d -- \"$cur\")); return;;")
            elif o["arg"] and takes_file(o):
                out.append(f"            {names}) COMPREPLY=($(compgen -f -- \"$cur\")); return;;")
            elif o["arg"]:
                out.append(f"            {names}) return;;")
        out.append("        esac")
        out.append(f"        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W '{longs}'"
                   " -- \"$cur\")); else COMPREPLY=($(compgen -f -- \"$cur\")); fi;;")
    out += ["    esac", "}", "complete -F _faultline faultline", ""]
    return "\n".join(out)


def zsh_escape(s):
    return s.replace("\\", "\\\\").replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]") \
            .replace(":", "\\:")


def zsh(cmds):
    out = ["#compdef faultline",
           "# zsh completion for faultline (generated from its --help by completions/gen.py)",
           "_faultline() {",
           "  local -a cmds",
           "  cmds=("]
    for name in sorted({c["name"].split()[0] for c in cmds}):
        desc = next(c["desc"] for c in cmds if c["name"].split()[0] == name)
        out.append(f"    '{name}:{zsh_escape(desc)}'")
    out += ["  )",
            "  if (( CURRENT == 2 )); then _describe command cmds; return; fi",
            "  local cmd=$words[2]",
            "  if [[ $cmd == patterns ]]; then",
            "    if (( CURRENT == 3 )); then _values subcommand check list; return; fi",
            "    cmd=\"patterns $words[3]\"",
            "  fi",
            "  case $cmd in"]
    for c in cmds:
        out.append(f"  '{c['name']}')")
        out.append("    _arguments -s \\")
        for o in c["opts"]:
            h = zsh_escape(o["help"][:80])
            ch = choices(o)
            action = ""
            if o["arg"]:
                if ch:
                    action = f":{o['arg'].lower()}:({' '.join(ch)})"
                elif o["arg"] == "DIR":
                    action = f":{o['arg'].lower()}:_files -/"
                elif takes_file(o):
                    action = f":{o['arg'].lower()}:_files"
                else:
                    action = f":{o['arg'].lower()}:"
            rep = "*" if "(repeatable)" in o["help"] else ""
            if o["short"]:
                out.append(f"      '{rep}'{{-{o['short']},--{o['long']}}}'[{h}]{action}' \\")
            else:
                out.append(f"      '{rep}--{o['long']}[{h}]{action}' \\")
        out.append("      '*:input:_files'")
        out.append("    ;;")
    out += ["  esac", "}", "_faultline \"$@\"", ""]
    return "\n".join(out)


def fish(cmds):
    out = ["# fish completion for faultline (generated from its --help by completions/gen.py)",
           "complete -c faultline -f"]
    tops = sorted({c["name"].split()[0] for c in cmds})
    for name in tops:
        desc = next(c["desc"] for c in cmds if c["name"].split()[0] == name)
        out.append(f"complete -c faultline -n '__fish_use_subcommand' -a {name} "
                   f"-d {fish_quote(desc)}")
    out.append("complete -c faultline -n '__fish_seen_subcommand_from patterns; and not "
               "__fish_seen_subcommand_from check list' -a 'check list'")
    for c in cmds:
        parts = c["name"].split()
        cond = f"__fish_seen_subcommand_from {parts[0]}"
        if len(parts) == 2:
            cond += f"; and __fish_seen_subcommand_from {parts[1]}"
        for o in c["opts"]:
            line = f"complete -c faultline -n '{cond}' -l {o['long']}"
            if o["short"]:
                line += f" -s {o['short']}"
            ch = choices(o)
            if ch:
                line += f" -x -a '{' '.join(ch)}'"
            elif takes_file(o):
                line += " -r -F"
            elif o["arg"]:
                line += " -x"
            line += f" -d {fish_quote(o['help'][:90])}"
            out.append(line)
        out.append(f"complete -c faultline -n '{cond}' -F")
    out.append("")
    return "\n".join(out)


def fish_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def roff(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + ln) if ln.startswith((".", "'")) else ln for ln in s.split("\n"))


def man(cmds, version):
    out = [f'.TH FAULTLINE 1 "" "faultline {version}" "User Commands"',
           ".SH NAME",
           "faultline \\- rank the root causes of Cloud Run incidents from Cloud Logging exports",
           ".SH SYNOPSIS"]
    for c in cmds:
        out.append(f".B faultline {c['name']}")
        out.append(".RI [ options ] " + roff(c["usage"].split("[options]", 1)[-1].strip()))
        out.append(".br")
    out += [".SH DESCRIPTION",
            "faultline reads Google Cloud Logging exports of Cloud Run services, classifies the "
            "error lines with PCRE2 rules, correlates them with deploys and other changes and "
            "writes a ranked root\\-cause report with the evidence and the command to run."]
    for c in cmds:
        out.append(f".SH {c['name'].upper()}")
        out.append(roff(c.get("summary") or c["desc"]))
        for o in c["opts"]:
            head = (f"\\fB\\-{o['short']}\\fR, " if o["short"] else "") + \
                   f"\\fB\\-\\-{roff(o['long'])}\\fR"
            if o["arg"]:
                head += f" \\fI{roff(o['arg'])}\\fR"
            out += [".TP", head, roff(o["help"])]
        if c["epilog"]:
            epi = c["epilog"].split("Exit status:")[0].strip("\n")
            if epi:
                out += [".PP", ".nf", roff(epi), ".fi"]
    out += [".SH EXIT STATUS",
            ".TP\n0\nsuccess",
            ".TP\n1\nusage or configuration error",
            ".TP\n2\ninput unreadable: nothing could be read",
            ".TP\n3\npartial input; the report is still written",
            ".TP\n4\na confident cause was found and \\-\\-fail\\-on\\-cause was given",
            ".SH SEE ALSO",
            "gcloud(1); the documentation in docs/ of the faultline sources.",
            ""]
    return "\n".join(out)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    faultline, kind, out = sys.argv[1:]
    cmds = spec(faultline)
    if not cmds or not any(c["opts"] for c in cmds):
        sys.exit("gen.py: could not read the commands' --help")
    if kind == "man":
        v = subprocess.run([faultline, "--version"], stdout=subprocess.PIPE).stdout.decode()
        m = re.match(r"faultline (\S+)", v)
        text = man(cmds, m.group(1) if m else "")
    else:
        text = {"bash": bash, "zsh": zsh, "fish": fish}[kind](cmds)
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
