#!/usr/bin/env python3
"""Writes the release metadata into a packaged plugin directory (`make package` runs it):

    scripts/package_meta.py --plugin-dir target/plugin/starrocks-kafka-connector-<v> --version <v> \
        --jar lib/<jar> [--target TRIPLE ...]

- manifest.json: Confluent Hub's component manifest (name, version, title, description, owner,
  component_types, license, features, documentation_url, requirements, tags, release_date; no
  docker_image). With owner `starrocks` and name `kafka-connector` the archive follows Confluent's
  `${owner}-${name}-${version}.zip` convention: starrocks-kafka-connector-<v>.zip.
- LICENSE: this project's licence (Apache-2.0).
- doc/licenses/THIRD-PARTY-NOTICES.md: every Rust crate compiled into the native library, with
  version, licence and source, from `cargo metadata` (the lock file's resolution for the targets
  built), plus the Java dependencies bundled in the shim jar (read from the jar: none today,
  connect-api and slf4j-api are provided by the worker).
- doc/licenses/<crate>-<version>/: the licence and notice files each crate ships.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CRATE = "starrocks-sink-jni"
OWNER = "starrocks"
COMPONENT = "kafka-connector"
DOCS_URL = "https://docs.starrocks.io/docs/loading/Kafka-connector-starrocks/"
GLIBC_FLOOR = "2.17"
LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|UNLICENSE|COPYRIGHT)", re.I)


# -- Rust crates ---------------------------------------------------------------------------------
def cargo_metadata(targets) -> dict:
    cmd = os.environ.get("CARGO", "cargo").split() + ["metadata", "--format-version", "1", "--locked"]
    for t in targets:
        cmd += ["--filter-platform", t]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit("package_meta: `%s` failed:\n%s" % (" ".join(cmd), res.stderr[-3000:]))
    return json.loads(res.stdout)


def linked_crates(meta: dict, root_name: str = CRATE):
    """The packages compiled into `root_name`'s library: its normal (non-dev, non-build) dependency
    closure. Proc-macro crates run at compile time only; they and what only they use are returned
    apart (compile_time), since their code is not in the binary."""
    pkgs = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == root_name)

    def is_proc_macro(pid):
        return any("proc-macro" in t["kind"] for t in pkgs[pid]["targets"])

    def normal_deps(pid):
        for d in nodes[pid]["deps"]:
            if any(k.get("kind") is None for k in d["dep_kinds"]):
                yield d["pkg"]

    linked, compile_time, stack = set(), set(), [(root, False)]
    while stack:
        pid, via_macro = stack.pop()
        macro = via_macro or is_proc_macro(pid)
        seen = compile_time if macro else linked
        if pid in seen:
            continue
        seen.add(pid)
        stack.extend((d, macro) for d in normal_deps(pid))
    compile_time -= linked
    members = set(meta["workspace_members"])
    return ([pkgs[p] for p in sorted(linked - members, key=lambda i: (pkgs[i]["name"], pkgs[i]["version"]))],
            [pkgs[p] for p in sorted(compile_time - members, key=lambda i: (pkgs[i]["name"], pkgs[i]["version"]))])


def license_of(p: dict) -> str:
    if p.get("license"):
        return p["license"]
    if p.get("license_file"):
        return "see %s" % p["license_file"]
    return "UNKNOWN"


def source_of(p: dict) -> str:
    return p.get("repository") or ("crates.io" if (p.get("source") or "").startswith("registry+") else p.get("source") or "")


def copy_license_files(p: dict, dest_root: Path) -> int:
    pkg_dir = Path(p["manifest_path"]).parent
    files = [f for f in sorted(pkg_dir.iterdir()) if f.is_file() and LICENSE_FILE.match(f.name)]
    if p.get("license_file"):
        lf = pkg_dir / p["license_file"]
        if lf.is_file() and lf not in files:
            files.append(lf)
    if not files:
        return 0
    dest = dest_root / ("%s-%s" % (p["name"], p["version"]))
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, dest / f.name)
    return len(files)


# -- Java -----------------------------------------------------------------------------------------
def bundled_java(jar: Path):
    """Third-party Java code inside the shim jar: Maven artifacts (META-INF/maven/<g>/<a>/) other
    than the shim's own, and class files outside com/starrocks/."""
    with zipfile.ZipFile(jar) as z:
        names = z.namelist()
    artifacts = sorted({"/".join(n.split("/")[2:4]) for n in names
                        if n.startswith("META-INF/maven/") and n.endswith("/pom.properties")}
                       - {"com.starrocks/starrocks-kafka-connector"})
    foreign = sorted({n.rsplit("/", 1)[0] for n in names
                      if n.endswith(".class") and not n.startswith("com/starrocks/")})
    return artifacts, foreign


def platforms(jar: Path):
    with zipfile.ZipFile(jar) as z:
        return sorted({n.split("/")[1] for n in z.namelist() if n.startswith("native/") and n.count("/") >= 2
                       and not n.endswith("/")})


# -- files ----------------------------------------------------------------------------------------
def release_date() -> str:
    res = subprocess.run(["git", "log", "-1", "--format=%cs"], cwd=ROOT, capture_output=True, text=True)
    out = res.stdout.strip() if res.returncode == 0 else ""
    return out or datetime.date.today().isoformat()


def manifest(version: str, plats) -> dict:
    linux = [p for p in plats if p.startswith("linux-")]
    reqs = ["Apache Kafka Connect 3.4 or later (tested with Kafka 3.4, 3.9 and 4.4 workers)",
            "Java 8 or later (the Java version the Connect worker needs)",
            "StarRocks 2.5 or later, reachable on the FE and BE HTTP ports (Stream Load)"]
    reqs.append("Native library platforms: %s%s" % (", ".join(plats) or "none",
                                                     "; Linux needs glibc %s or later" % GLIBC_FLOOR if linux else ""))
    return {
        "name": COMPONENT,
        "version": version,
        "title": "StarRocks Sink Connector (Rust core)",
        "description": (
            "Loads Kafka topics into StarRocks tables through Stream Load. A drop-in replacement for "
            "StarRocks' Java sink connector: the same connector class "
            "(com.starrocks.connector.kafka.StarRocksSinkConnector), the same Debezium transform "
            "(com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord) and the same "
            "configuration keys. A thin Java shim hands each batch to a Rust core in one JNI call; the "
            "core serializes rows as JSON or CSV, buffers them per table and loads them with retries "
            "and deterministic labels, and offsets are committed only for rows StarRocks acknowledged "
            "(at-least-once).\n\nThe native library is inside the jar; Linux x86_64 builds need glibc "
            "%s or later." % GLIBC_FLOOR),
        "owner": {"username": OWNER, "type": "organization", "name": "StarRocks"},
        "component_types": ["sink", "transform"],
        "license": [{"name": "Apache License 2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"}],
        "features": {
            "supported_encodings": ["any"],
            "single_message_transforms": True,
            "confluent_control_center_integration": True,
            "kafka_connect_api": True,
            "delivery_guarantee": ["at_least_once"],
        },
        "documentation_url": DOCS_URL,
        "requirements": reqs,
        "tags": ["starrocks", "olap", "analytics", "stream load", "sink", "cdc", "debezium", "rust"],
        "release_date": release_date(),
    }


def notices(version, linked, compile_time, artifacts, foreign, targets) -> str:
    out = ["# Third-party notices: starrocks-kafka-connector %s" % version, "",
           "This project is licensed under the Apache License 2.0 (../../LICENSE).", "",
           "## Rust crates compiled into the native library", "",
           "Generated at build time by scripts/package_meta.py from `cargo metadata` (Cargo.lock) for "
           "%s. Each crate's own licence and notice files are in the folder named after it next to this "
           "file." % ", ".join(targets), "",
           "| crate | version | licence | source |", "| --- | --- | --- | --- |"]
    out += ["| %s | %s | %s | %s |" % (p["name"], p["version"], license_of(p), source_of(p)) for p in linked]
    out += ["", "## Rust crates used at compile time only (procedural macros)", "",
            "Their code runs in the compiler and is not part of the library; listed for completeness.", "",
            "| crate | version | licence | source |", "| --- | --- | --- | --- |"]
    out += ["| %s | %s | %s | %s |" % (p["name"], p["version"], license_of(p), source_of(p)) for p in compile_time]
    out += ["", "## Java dependencies bundled in the shim jar", ""]
    if artifacts or foreign:
        out += ["- %s" % a for a in artifacts] + ["- classes in %s" % f for f in foreign]
    else:
        out += ["None: the jar holds only this project's classes and the native library. connect-api and "
                "slf4j-api are provided by the Connect worker (Maven scope `provided`)."]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin-dir", required=True, type=Path)
    ap.add_argument("--version", required=True)
    ap.add_argument("--jar", required=True, type=Path)
    ap.add_argument("--target", action="append", default=[], help="Rust target triples built (repeat)")
    args = ap.parse_args(argv)
    targets = args.target or ["x86_64-unknown-linux-gnu"]
    d = args.plugin_dir
    plats = platforms(args.jar)
    (d / "manifest.json").write_text(json.dumps(manifest(args.version, plats), indent=2) + "\n", encoding="utf-8")
    shutil.copyfile(ROOT / "LICENSE", d / "LICENSE")
    lic = d / "doc" / "licenses"
    if lic.exists():
        shutil.rmtree(lic)
    lic.mkdir(parents=True)
    linked, compile_time = linked_crates(cargo_metadata(targets))
    if not linked:
        raise SystemExit("package_meta: found no crates linked into %s" % CRATE)
    copied = sum(copy_license_files(p, lic) for p in linked)
    artifacts, foreign = bundled_java(args.jar)
    (lic / "THIRD-PARTY-NOTICES.md").write_text(
        notices(args.version, linked, compile_time, artifacts, foreign, targets), encoding="utf-8")
    missing = [p["name"] for p in linked if license_of(p) == "UNKNOWN"]
    print("package_meta: manifest.json (%s), %d linked crates (%d licence files), %d compile-time crates, "
          "%d bundled Java artifacts%s" % (", ".join(plats), len(linked), copied, len(compile_time),
                                           len(artifacts) + len(foreign),
                                           "; NO LICENCE for " + ", ".join(missing) if missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
