#!/usr/bin/env python3
"""`meson install` puts the bash, zsh and fish completions and the man page where each shell
and man(1) look (issue 13 "Also expected"), next to the binary and the rules.

Usage: install_e2e.py MESON BUILD_DIR
Installs into a temporary DESTDIR (nothing outside it is written except meson's install log
in the build directory), then checks the files and reads the man page with man -l.
"""

import os
import shutil
import subprocess
import sys
import tempfile


def fail(msg):
    print(f"FAIL install: {msg}")
    sys.exit(1)


def main():
    meson, build = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="fl-install-") as dest:
        p = subprocess.run([meson, "install", "-C", build, "--destdir", dest, "--no-rebuild",
                            "--quiet"], capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            fail(f"meson install: exit {p.returncode}: {p.stderr[-600:]}")
        found = {}
        for d, _, files in os.walk(dest):
            for f in files:
                found[os.path.relpath(os.path.join(d, f), dest)] = os.path.join(d, f)
        want = {
            "bash": "share/bash-completion/completions/faultline",
            "zsh": "share/zsh/site-functions/_faultline",
            "fish": "share/fish/vendor_completions.d/faultline.fish",
            "man": "share/man/man1/faultline.1",
            "binary": "bin/faultline",
        }
        paths = {}
        for what, suffix in want.items():
            hit = [k for k in found if k.endswith(suffix)]
            if not hit:
                fail(f"no {what} file ending in {suffix} installed: {sorted(found)[:20]}")
            paths[what] = found[hit[0]]
        with open(paths["bash"]) as f:
            if "--since" not in f.read():
                fail("the installed bash completion lacks --since")
        with open(paths["zsh"]) as f:
            if not f.read().startswith("#compdef faultline"):
                fail("the installed zsh completion has no #compdef line")
        if shutil.which("man"):
            p = subprocess.run(["man", "-l", paths["man"]], capture_output=True, text=True,
                               env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="100"),
                               timeout=60)
            if p.returncode != 0 or "--redact-actors" not in p.stdout.replace("\u2010", "-"):
                fail(f"man -l: exit {p.returncode}; the page lacks --redact-actors: "
                     f"{p.stderr[:300]}")
    print("ok install")


if __name__ == "__main__":
    main()
