#!/usr/bin/env python3
"""Fails if a Linux shared library needs a newer glibc than the floor (default 2.17).

    scripts/check_glibc.py [--floor 2.17] [--warn-only] LIB.so|JAR ...

Reads the library's versioned symbol requirements with `objdump -T` (binutils): every
`GLIBC_x.y` it references must be <= the floor, or the library will not load on a distribution
with that glibc ("version `GLIBC_2.34' not found"). It also fails if the library links a shared
library outside glibc and libgcc_s (NEEDED entries such as libz.so.1 or libssl.so.3 may be absent or
of another version on the target machine). A .jar argument checks every native/linux-*/*.so inside
it. Prints the highest version each library needs.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

FLOOR = "2.17"
VERSION_RE = re.compile(r"\bGLIBC_(\d+(?:\.\d+)+)\b")
NEEDED_RE = re.compile(r"^\s*NEEDED\s+(\S+)", re.M)
# what every glibc system has (glibc's own libraries, and GCC's unwinder)
SYSTEM_LIBS = re.compile(r"^(libc|libm|libdl|libpthread|librt|libutil|ld-linux-x86-64|ld-linux-aarch64|ld-linux|"
                         r"libgcc_s)\.so\.\d+$")


def parse(v: str):
    return tuple(int(p) for p in v.split("."))


def glibc_versions(lib) -> list:
    """The distinct GLIBC_x.y versions the library's dynamic symbols reference, ascending."""
    res = subprocess.run(["objdump", "-T", str(lib)], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("objdump -T %s failed: %s" % (lib, res.stderr.strip()))
    return sorted({m.group(1) for m in VERSION_RE.finditer(res.stdout)}, key=parse)


def needed(lib) -> list:
    """The shared libraries the library links (its NEEDED entries)."""
    res = subprocess.run(["objdump", "-p", str(lib)], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("objdump -p %s failed: %s" % (lib, res.stderr.strip()))
    return NEEDED_RE.findall(res.stdout)


def check(lib, floor: str = FLOOR):
    """(ok, highest version needed, the versions above the floor) for one library file."""
    versions = glibc_versions(lib)
    too_new = [v for v in versions if parse(v) > parse(floor)]
    return not too_new, (versions[-1] if versions else None), too_new


def foreign_libraries(lib) -> list:
    """NEEDED entries outside glibc and libgcc_s."""
    return [n for n in needed(lib) if not SYSTEM_LIBS.match(n)]


def libraries(path: Path, tmp: Path):
    """The .so files to check: the file itself, or the linux libraries inside a jar."""
    if path.suffix == ".jar":
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.startswith("native/linux-") and n.endswith(".so")]
            if not names:
                raise RuntimeError("%s carries no native/linux-*/*.so" % path)
            for n in names:
                z.extract(n, tmp)
                yield "%s!/%s" % (path, n), tmp / n
    else:
        yield str(path), path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--floor", default=FLOOR, help="the oldest glibc the library must load on (%(default)s)")
    ap.add_argument("--warn-only", action="store_true", help="report, but exit 0")
    ap.add_argument("paths", nargs="+", type=Path)
    args = ap.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for p in args.paths:
            for label, lib in libraries(p, Path(tmp)):
                ok, highest, too_new = check(lib, args.floor)
                foreign = foreign_libraries(lib)
                if foreign:
                    failed = True
                    print("glibc check: %s links %s, which a target machine may lack (link it statically)%s"
                          % (label, ", ".join(foreign), "" if args.warn_only else ": FAILED"), file=sys.stderr)
                if ok:
                    print("glibc check: %s needs at most GLIBC_%s (floor %s): ok" % (label, highest, args.floor))
                else:
                    failed = True
                    print("glibc check: %s needs GLIBC_%s, above the floor %s (%s)%s"
                          % (label, highest, args.floor, ", ".join("GLIBC_" + v for v in too_new),
                             "" if args.warn_only else ": FAILED"), file=sys.stderr)
    return 1 if failed and not args.warn_only else 0


if __name__ == "__main__":
    sys.exit(main())
