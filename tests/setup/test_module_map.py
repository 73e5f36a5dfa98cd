"""docs/architecture.md's module map stays true to the tree: every Rust source file of the core, the
JNI crate and the emulator is named there (by its path, or by its name in its folder's line), and every
path the map names exists."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOTS = ["native/core/src", "native/jni/src", "emulator/src", "emulator/store/src"]


def entries():
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = text.split("## Module map", 1)[1].split("```", 2)[1]
    out = []  # (folder the line is in, the names at the start of the line)
    base = None
    stack = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        head = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        names = [n.strip() for n in head[0].split(",")]
        rest = head[1] if len(head) > 1 else ""
        if indent == 0:
            base, stack = names[0].rstrip("/"), []
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        folder = "/".join([base] + [s[1] for s in stack])
        out.append((folder, names, rest))
        if len(names) == 1 and names[0].endswith("/"):
            stack.append((indent, names[0].rstrip("/")))
    return out


def test_every_path_in_the_map_exists():
    for folder, names, _ in entries():
        for n in names:
            assert (ROOT / folder / n).exists(), "%s/%s is in docs/architecture.md's module map but not in the tree" % (folder, n)


def test_every_source_file_is_in_the_map():
    named = set()
    for folder, names, rest in entries():
        for n in names:
            named.add("%s/%s" % (folder, n.rstrip("/")))
            if n.endswith("/"):  # a folder line may name its files in its description
                for f in re.findall(r"[\w/]+\.rs", rest):
                    named.add("%s/%s/%s" % (folder, n.rstrip("/"), f))
    missing = []
    for r in ROOTS:
        for f in sorted((ROOT / r).rglob("*.rs")):
            rel = f.relative_to(ROOT).as_posix()
            if f.name == "tests.rs" or f.name.startswith("tests_") or "/tests/" in rel:
                continue
            if f.name in ("mod.rs", "lib.rs"):  # a folder's or crate's own file: named with the folder
                rel = rel.rsplit("/", 1)[0]
                if rel in ROOTS:
                    continue
            # a file is covered when it, or a folder holding it that the map describes as a whole, is named
            covered = rel in named or any(rel.startswith(n + "/") and not any(m.startswith(n + "/") for m in named if m != n)
                                          for n in named)
            if not covered:
                missing.append(rel)
    assert not missing, "not in docs/architecture.md's module map: %s" % ", ".join(missing)
