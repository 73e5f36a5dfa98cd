"""The release artifact as a user gets it: `make package`'s zip, unzipped into a fresh plugin.path
folder, carries a Confluent Hub manifest, the licences and a native library that loads on glibc
2.17; a fresh standalone worker loads the docs' rows through it, and so does a worker that finds
the jar through CLASSPATH (as StarRocks' docs run it) instead of plugin.path."""
import json
import re
import sys
import zipfile

from harness import connect, plugin, seed
from harness.plugin import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import check_glibc  # noqa: E402

# Confluent Hub's component manifest: the fields its archive specification and Maven plugin require
REQUIRED = ("name", "version", "title", "description", "owner", "component_types", "license",
            "documentation_url", "requirements", "features", "tags")


def _load_seed_rows(kafka_broker, worker, query_port):
    worker.rest.wait_running(seed.CONNECTOR_NAME, process=worker.process)
    rows = seed.wait_for_rows(query_port, 120, check=lambda: worker.rest.raise_if_failed(seed.CONNECTOR_NAME))
    assert rows == seed.EXPECTED_ROWS


def test_zip_layout_manifest_licences_and_glibc(plugin_dir, workdir):
    installed = plugin.unzip_into(workdir / "plugins")
    with zipfile.ZipFile(plugin.zip_path()) as z:
        top = {n.split("/")[0] for n in z.namelist()}
    assert top == {plugin.name()}, "the zip must hold one folder named like itself: %s" % top

    manifest = json.loads((installed / "manifest.json").read_text(encoding="utf-8"))
    missing = [k for k in REQUIRED if not manifest.get(k)]
    assert not missing, "manifest.json lacks %s" % missing
    assert manifest["version"] == plugin.version()
    assert "sink" in manifest["component_types"]
    assert set(manifest["component_types"]) <= {"sink", "source", "transform", "converter"}
    assert re.fullmatch(r"[a-z0-9_]{2,255}", manifest["owner"]["username"])
    # the archive follows Confluent's ${owner}-${name}-${version}.zip naming
    assert plugin.zip_path().name == "%s-%s-%s.zip" % (manifest["owner"]["username"], manifest["name"],
                                                       manifest["version"])
    assert all(lic.get("name") and lic.get("url") for lic in manifest["license"])
    assert manifest["documentation_url"].startswith("https://")
    assert "docker_image" not in manifest
    assert any("glibc 2.17" in r for r in manifest["requirements"]), manifest["requirements"]

    # licences: ours, and every crate compiled into the library with its own licence files
    assert "Apache License" in (installed / "LICENSE").read_text(encoding="utf-8")
    notices = (installed / "doc" / "licenses" / "THIRD-PARTY-NOTICES.md").read_text(encoding="utf-8")
    for crate in ("jni", "tokio", "serde_json", "reqwest"):
        assert re.search(r"^\| %s \| [0-9][^|]* \| [^|]*\S[^|]* \|" % re.escape(crate), notices, re.M), crate
    assert "UNKNOWN" not in notices
    assert "Java dependencies bundled in the shim jar" in notices
    assert any((installed / "doc" / "licenses").glob("tokio-*/LICENSE*"))
    assert (installed / "doc" / "README.md").is_file() and (installed / "doc" / "configuration.md").is_file()

    # one jar, carrying the linux x86_64 library, linked against glibc <= 2.17
    jars = plugin.jars(installed)
    assert len(jars) == 1, jars
    with zipfile.ZipFile(jars[0]) as z:
        names = z.namelist()
    assert "native/linux-x86_64/libstarrocks_kafka_native.so" in names
    assert not any(n.startswith(("org/apache/kafka/", "org/slf4j/")) for n in names)
    assert check_glibc.main([str(jars[0])]) == 0, "the packaged library needs a glibc newer than 2.17"


def test_unzipped_release_loads_the_seed_rows(kafka_broker, seed_topic, seed_db, plugin_dir, workers, workdir):
    plugins = workdir / "plugins"
    installed = plugin.unzip_into(plugins)
    assert plugin.jars(installed)
    props = workdir / "connect-StarRocks-sink.properties"
    props.write_text(seed.connector_properties(seed_db.fe_http_port), encoding="utf-8")
    w = workers.start("standalone", plugins, worker_properties=seed.worker_properties("standalone"),
                      connector_files=[props])
    _load_seed_rows(kafka_broker, w, seed_db.query_port)
    assert "Loaded the StarRocks connector's native library" in w.log_text()


def test_release_through_classpath(kafka_broker, seed_topic, seed_db, plugin_dir, workdir):
    """CLASSPATH=<dir>/lib/* in front of connect-standalone.sh (kafka-run-class.sh puts it first on
    -cp), with a plugin.path that does not hold the connector."""
    installed = plugin.unzip_into(workdir / "unzipped")
    empty = workdir / "empty-plugin-path"
    empty.mkdir(parents=True, exist_ok=True)
    props = workdir / "connect-StarRocks-sink.properties"
    props.write_text(seed.connector_properties(seed_db.fe_http_port), encoding="utf-8")
    w = connect.ConnectWorker("standalone", kafka_broker.bootstrap, workdir / "classpath-worker", empty,
                              worker_properties=seed.worker_properties("standalone"), connector_files=[props],
                              extra_classpath=[installed / "lib" / "*"])
    try:
        w.start()
        _load_seed_rows(kafka_broker, w, seed_db.query_port)
        plugins = w.rest.json("GET", "/connector-plugins")
        assert any(p["class"] == plugin.CONNECTOR_CLASS for p in plugins), plugins
    finally:
        w.stop()
