#!/usr/bin/env python3
"""Builds the native library (crate starrocks-sink-jni) for each target and lays it out as the shim
jar's resources: <out>/native/<os>-<arch>/<library file>.

    scripts/build_native.py --out java-shim/target/native-resources [--glibc-floor 2.17] TARGET...

TARGET is a Rust target triple (`make build NATIVE_TARGETS="x86_64-unknown-linux-gnu
aarch64-unknown-linux-gnu"`); each needs its standard library (`rustup target add TARGET`).
Linux glibc targets are built with `cargo zigbuild --target TARGET.<floor>`, so the library links
against glibc <floor> symbols and loads on any distribution with that glibc or newer; then
scripts/check_glibc.py verifies it (no glibc symbol past the floor, no shared library outside glibc,
so zlib is linked in). `make` provides cargo-zigbuild and Zig in .venv/ (tests/requirements.txt);
without them the build stops. ZIGBUILD=0 asks for plain cargo instead, for platforms without Zig:
a library that needs this machine's glibc, built with a loud warning and only reported, never a
release. There is no silent fallback from one to the other.
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CRATE = "starrocks-sink-jni"
LIB_NAME = "starrocks_kafka_native"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import check_glibc  # noqa: E402

ARCHES = {"x86_64": "x86_64", "aarch64": "aarch64", "i686": "x86", "i586": "x86", "powerpc64le": "ppc64le",
          "s390x": "s390x", "riscv64gc": "riscv64", "armv7": "arm", "arm": "arm"}


def platform(triple: str):
    """(platform folder, library file) for a Rust target triple, as NativeLoader looks them up."""
    parts = triple.split("-")
    arch = ARCHES.get(parts[0])
    if arch is None:
        raise SystemExit("build_native: unsupported architecture in target %s" % triple)
    if "-linux-gnu" in triple:
        return "linux-" + arch, "lib%s.so" % LIB_NAME
    if "-apple-darwin" in triple:
        return "darwin-" + arch, "lib%s.dylib" % LIB_NAME
    if "-windows-" in triple:
        return "windows-" + arch, "%s.dll" % LIB_NAME
    # musl and the rest: NativeLoader has no folder for them (a musl library would shadow the glibc one)
    raise SystemExit("build_native: unsupported target %s (supported: *-linux-gnu*, *-apple-darwin, *-windows-*)"
                     % triple)


def run(argv, **kw):
    print("+ " + " ".join(shlex.quote(str(a)) for a in argv), flush=True)
    subprocess.run([str(a) for a in argv], check=True, cwd=ROOT, **kw)


def capture(argv):
    try:
        res = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    except OSError:
        return None
    return res.stdout if res.returncode == 0 else None


def host_triple(cargo) -> str:
    out = capture([os.environ.get("RUSTC", "rustc"), "-vV"]) or ""
    for line in out.splitlines():
        if line.startswith("host:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit("build_native: `rustc -vV` names no host triple")


def installed_targets(host: str) -> set:
    out = capture(["rustup", "target", "list", "--installed"])
    found = set(out.split()) if out else set()
    return found | {host}


def zigbuild_available(cargo) -> bool:
    """cargo-zigbuild on PATH and a Zig it can run (the `zig` binary or PyPI's ziglang)."""
    if capture(["cargo-zigbuild", "--version"]) is None:
        return False
    if os.environ.get("CARGO_ZIGBUILD_ZIG_PATH") or shutil.which("zig"):
        return True
    return capture([sys.executable, "-m", "ziglang", "version"]) is not None


def warn(msg: str):
    bar = "!" * 100
    print("\n%s\nWARNING: %s\n%s\n" % (bar, msg, bar), file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="resources folder (native/<platform>/ goes inside)")
    ap.add_argument("--glibc-floor", default=check_glibc.FLOOR)
    ap.add_argument("--profile", default="release")
    ap.add_argument("targets", nargs="+")
    args = ap.parse_args(argv)
    cargo = shlex.split(os.environ.get("CARGO", "cargo"))
    plain = os.environ.get("ZIGBUILD", "1").strip().lower() in ("0", "no", "false", "off")
    host = host_triple(cargo)
    installed = installed_targets(host)
    missing = [t for t in args.targets if t not in installed]
    if missing:
        raise SystemExit("build_native: no Rust standard library for %s: `rustup target add %s` (installed: %s)"
                         % (", ".join(missing), " ".join(missing), ", ".join(sorted(installed))))
    zig = not plain
    if zig and not zigbuild_available(cargo):
        raise SystemExit("build_native: cargo-zigbuild or Zig is missing (`make` installs both into .venv/ from "
                         "tests/requirements.txt). ZIGBUILD=0 builds with plain cargo instead: a library for this "
                         "machine's glibc only, not a release.")
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    if not target_dir.is_absolute():
        target_dir = ROOT / target_dir
    native = args.out / "native"
    if native.exists():
        shutil.rmtree(native)  # no stale platform from an earlier NATIVE_TARGETS
    for triple in args.targets:
        folder, file = platform(triple)
        gnu = "-linux-gnu" in triple
        if zig:
            cmd = cargo + ["zigbuild", "--target", triple + ("." + args.glibc_floor if gnu else "")]
        else:
            if gnu:
                warn("ZIGBUILD=0: building %s with plain cargo, so the library needs this machine's glibc, not %s, "
                     "and may link its shared libraries. Do not release this build." % (triple, args.glibc_floor))
            cmd = cargo + ["build", "--target", triple]
        run(cmd + ["--profile", args.profile, "-p", CRATE])
        profile_dir = "release" if args.profile == "release" else args.profile
        built = target_dir / triple / profile_dir / file
        if not built.is_file():
            raise SystemExit("build_native: %s was not built" % built)
        dest = native / folder / file
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, dest)
        print("build_native: %s -> %s" % (built.relative_to(ROOT) if built.is_relative_to(ROOT) else built, dest),
              flush=True)
        if gnu:
            check_args = ["--floor", args.glibc_floor, str(dest)]
            if check_glibc.main(check_args if zig else ["--warn-only"] + check_args) != 0:
                raise SystemExit("build_native: %s needs a glibc newer than %s" % (triple, args.glibc_floor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
