"""A real schema registry for the converter suites: Apicurio Registry 2.4.2.Final built from Maven
Central jars, and Apicurio's Kafka Connect converters (2.6.13.Final) as a plugin folder.

Confluent's Schema Registry and converters are not on Maven Central, Karapace is not on PyPI, and
the Apicurio lines newer than 2.4 do not resolve there (docs/converters.md says which were tried),
so the registry is Apicurio's 2.4.2.Final, which also serves the Confluent-compatible API
(`/apis/ccompat/v7`).

Everything is built once into the test cache (`KAFKA_HARNESS_CACHE`, default `tests/.cache`, as for
the Kafka jars in harness/kafka.py), each part guarded by a file lock and a `.complete` marker:

- `runner_jar()`: `tests/.cache/apicurio-registry-2.4.2.Final/apicurio-registry-runner.jar` (about
  130 MB). Three Maven steps: the 0.1.10.Final config-index deployment module's jar is fetched and
  installed as 0.1.18.Final (which Central lacks) into a file repository
  (`tests/registry/config-index-deployment/pom.xml`), then `tests/registry/app/pom.xml` runs the
  Quarkus build over the app jar. About 36 s with a warm Maven cache; several minutes cold.
- `converter_plugins()`: `tests/.cache/apicurio-converters-2.6.13.Final/plugins/`, holding
  `apicurio-converters/` (AvroConverter, SerdeBasedConverter, the Avro, Protobuf and JSON Schema
  serdes and their dependencies; `tests/registry/converters/pom.xml`). Put it on a worker's
  `plugin.path` next to the connector.

`Registry(workdir).start()` runs the runner jar on 127.0.0.1 on a free port (in-memory storage, ready
in about 8 s) and `.stop()` stops it; `tests/conftest.py` starts one per pytest session (the
`registry` fixture). `apicurio_url` is what the converters' `apicurio.registry.url` takes,
`ccompat_url` the Confluent-compatible API (what Confluent's clients' `schema.registry.url` takes).

`produce_avro(...)` writes Avro records with Apicurio's own `AvroKafkaSerializer` in either wire mode
(ids in record headers, or Confluent's magic byte and 4-byte id), through the small Java program
`tests/registry/helper/ProduceAvro.java`, run from source on the converter plugin's classpath;
`produce_serde(...)` likewise Protobuf and JSON Schema records with Apicurio's serializers
(`ProduceSerde.java`).
"""
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from . import kafka, ports
from .kafka import CACHE, TESTS
from .process import ManagedProcess, java_bin, java_command

REGISTRY_VERSION = "2.4.2.Final"
CONVERTERS_VERSION = "2.6.13.Final"
REGISTRY_DIR = TESTS / "registry"
APP_POM = REGISTRY_DIR / "app" / "pom.xml"
SUBSTITUTE_POM = REGISTRY_DIR / "config-index-deployment" / "pom.xml"
CONVERTERS_POM = REGISTRY_DIR / "converters" / "pom.xml"
HELPER = REGISTRY_DIR / "helper" / "ProduceAvro.java"
SERDE_HELPER = REGISTRY_DIR / "helper" / "ProduceSerde.java"
# the module Maven Central lacks, and the one whose classes stand in for it
SUBSTITUTE = "io.apicurio:apicurio-common-app-components-config-index-deployment"
SUBSTITUTE_FROM = "0.1.10.Final"

AVRO_CONVERTER = "io.apicurio.registry.utils.converter.AvroConverter"
SERDE_CONVERTER = "io.apicurio.registry.utils.converter.SerdeBasedConverter"


def _mvn(cmd, what):
    res = subprocess.run(["mvn", "-B", "-q", "-Dstyle.color=never"] + [str(c) for c in cmd],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("%s failed:\n$ mvn %s\n%s%s" % (what, " ".join(str(c) for c in cmd),
                                                          res.stdout[-4000:], res.stderr[-4000:]))
    return res


def _once(root: Path, build):
    """Run `build()` once for the folder `root` (lock file + `.complete` marker, as kafka.lib_dir)."""
    marker = root / ".complete"
    if marker.exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            t0 = time.monotonic()
            what = build()
            marker.write_text("%s in %.1f s\n" % (what, time.monotonic() - t0))


def runner_jar() -> Path:
    """The runnable Apicurio Registry jar; built with Maven on first use (see the module docstring)."""
    root = CACHE / ("apicurio-registry-%s" % REGISTRY_VERSION)
    jar = root / "apicurio-registry-runner.jar"

    def build():
        sub = root / "substitute"
        repo = root / "repo"
        _mvn(["dependency:copy", "-Dartifact=%s:%s" % (SUBSTITUTE, SUBSTITUTE_FROM), "-DoutputDirectory=%s" % sub],
             "fetching %s:%s" % (SUBSTITUTE, SUBSTITUTE_FROM))
        src = sub / ("apicurio-common-app-components-config-index-deployment-%s.jar" % SUBSTITUTE_FROM)
        _mvn(["org.apache.maven.plugins:maven-install-plugin:3.1.3:install-file", "-Dfile=%s" % src,
              "-DpomFile=%s" % SUBSTITUTE_POM, "-DlocalRepositoryPath=%s" % repo],
             "installing the config-index deployment substitute")
        build_dir = root / "build"
        _mvn(["-f", APP_POM, "package", "-Dquarkus.package.type=uber-jar",
              # the app jar's application.properties says %prod.quarkus.package.type=legacy-jar, and a
              # profile key wins over a plain one whatever its source
              "-D%prod.quarkus.package.type=uber-jar", "-Dregistry.repo=%s" % repo.as_uri(), "-Dcache.dir=%s" % build_dir],
             "building Apicurio Registry %s" % REGISTRY_VERSION)
        built = build_dir / ("apicurio-registry-runner-%s-runner.jar" % REGISTRY_VERSION)
        if not built.exists():
            raise RuntimeError("the Quarkus build left no %s" % built)
        os.replace(built, jar)
        shutil.rmtree(build_dir, ignore_errors=True)
        return "%s (%d MB)" % (jar.name, jar.stat().st_size >> 20)

    _once(root, build)
    return jar


def converter_plugins() -> Path:
    """A plugin.path folder holding `apicurio-converters/` (Apicurio's converters and serdes with their
    dependencies); resolved with Maven on first use."""
    root = CACHE / ("apicurio-converters-%s" % CONVERTERS_VERSION)
    plugins = root / "plugins"
    folder = plugins / "apicurio-converters"

    def build():
        _mvn(["-f", CONVERTERS_POM, "dependency:copy-dependencies", "-Dcache.dir=%s" % folder],
             "resolving Apicurio's converters %s" % CONVERTERS_VERSION)
        jars = list(folder.glob("*.jar"))
        if not any(j.name.startswith("apicurio-registry-utils-converter-") for j in jars):
            raise RuntimeError("resolving Apicurio's converters left no converter jar in %s" % folder)
        write_manifest_jar(folder / MANIFEST_JAR)
        return "%d jars" % len(jars)

    _once(root, build)
    return plugins


# Apicurio's converter jar carries no ServiceLoader manifest, so a worker with
# `plugin.discovery=service_load` (the harness' default, and Kafka 4's recommendation) would not find its
# converters. This jar holds the manifest Kafka's `bin/connect-plugin-path.sh sync-manifests` writes
# for that folder (docs/converters.md tells users to run that tool).
MANIFEST_JAR = "apicurio-converters-manifests.jar"
CONVERTER_CLASSES = (AVRO_CONVERTER, SERDE_CONVERTER, "io.apicurio.registry.utils.converter.ExtJsonConverter")


def write_manifest_jar(path: Path):
    import zipfile

    with zipfile.ZipFile(str(path), "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
        z.writestr("META-INF/services/org.apache.kafka.connect.storage.Converter",
                   "".join(c + "\n" for c in CONVERTER_CLASSES))


def converter_classpath() -> str:
    return str(converter_plugins() / "apicurio-converters" / "*")


class Registry:
    """Apicurio Registry on 127.0.0.1 (in-memory storage)."""

    def __init__(self, workdir, heap: str = "512m"):
        self.workdir = Path(workdir)
        self.heap = heap
        self.port = None
        self.process = None

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    @property
    def apicurio_url(self) -> str:
        """Apicurio's own API: the converters' and serdes' `apicurio.registry.url`."""
        return self.url + "/apis/registry/v2"

    @property
    def ccompat_url(self) -> str:
        """The Confluent-compatible API: a Confluent client's `schema.registry.url`."""
        return self.url + "/apis/ccompat/v7"

    def start(self, timeout: float = 120):
        jar = runner_jar()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = ports.free_port()
        argv = [java_bin(), "-Xms64m", "-Xmx" + self.heap, "-XX:+UseSerialGC",
                "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=%d" % self.port,
                # no analytics, no banner; the log goes to registry.log
                "-Dquarkus.banner.enabled=false", "-jar", str(jar)]
        self.process = ManagedProcess("apicurio-registry", argv, self.workdir / "registry.log").start()

        def ready():
            r = requests.get(self.url + "/health/ready", timeout=5)
            return r.status_code == 200 and r.json().get("status") == "UP"

        self.process.wait_for(ready, timeout, "ready (GET /health/ready)")
        return self

    def stop(self):
        if self.process:
            self.process.stop(timeout=20)

    def info(self) -> dict:
        return requests.get(self.apicurio_url + "/system/info", timeout=10).json()

    def subjects(self) -> list:
        """The subjects the Confluent-compatible API lists (one per artifact)."""
        return requests.get(self.ccompat_url + "/subjects", timeout=10).json()

    def artifact_meta(self, artifact_id: str, group: str = "default", version=None) -> dict:
        """The metadata (globalId, contentId, ...) of an artifact's latest version, or of `version`."""
        path = "/groups/%s/artifacts/%s" % (group, artifact_id)
        path += "/versions/%s/meta" % version if version is not None else "/meta"
        r = requests.get(self.apicurio_url + path, timeout=10)
        r.raise_for_status()
        return r.json()

    def register(self, artifact_id: str, schema_text: str, artifact_type: str, group: str = "default") -> dict:
        """Create (or return) an artifact through Apicurio's API; returns its metadata (globalId, contentId...)."""
        r = requests.post(self.apicurio_url + "/groups/%s/artifacts?ifExists=RETURN_OR_UPDATE" % group,
                          data=schema_text.encode(),
                          headers={"Content-Type": "application/json", "X-Registry-ArtifactId": artifact_id,
                                   "X-Registry-ArtifactType": artifact_type}, timeout=10)
        r.raise_for_status()
        return r.json()


# -- converter configs -----------------------------------------------------------------------------
def avro_converter(prefix: str, registry_url: str, wire: str) -> dict:
    """Connect config for Apicurio's AvroConverter as `prefix` ("value.converter" or "key.converter").
    `wire`: "headers" (Apicurio's default: the global id in the record headers) or "confluent" (a magic
    byte and the 4-byte content id in front of the payload, as Confluent's serializers write)."""
    config = {prefix: AVRO_CONVERTER, prefix + ".apicurio.registry.url": registry_url}
    config.update({prefix + "." + k: v for k, v in wire_config(wire).items()})
    return config


def wire_config(wire: str) -> dict:
    if wire == "headers":
        return {"apicurio.registry.headers.enabled": "true"}
    if wire == "confluent":
        return {"apicurio.registry.headers.enabled": "false", "apicurio.registry.as-confluent": "true",
                "apicurio.registry.use-id": "contentId"}
    raise ValueError("wire mode %r (headers or confluent)" % wire)


def serde_converter(prefix: str, registry_url: str, fmt: str) -> dict:
    """Connect config for Apicurio's SerdeBasedConverter with the Protobuf or JSON Schema serdes."""
    if fmt == "protobuf":
        pkg = "io.apicurio.registry.serde.protobuf.Protobuf"
        extra = {"apicurio.registry.deserializer.value.return-class": "com.google.protobuf.DynamicMessage"}
    elif fmt == "jsonschema":
        pkg = "io.apicurio.registry.serde.jsonschema.JsonSchema"
        extra = {}
    else:
        raise ValueError("format %r (protobuf or jsonschema)" % fmt)
    config = {prefix: SERDE_CONVERTER, prefix + ".apicurio.registry.url": registry_url,
              prefix + ".apicurio.registry.converter.serializer": pkg + "KafkaSerializer",
              prefix + ".apicurio.registry.converter.deserializer": pkg + "KafkaDeserializer"}
    config.update({prefix + "." + k: v for k, v in extra.items()})
    return config


# -- producing with Apicurio's serializers ---------------------------------------------------------
def produce_avro(bootstrap: str, registry_url: str, topic: str, wire: str, value_schema: dict, values,
                 key_schema: dict = None, keys=None, workdir=None) -> int:
    """Produce records whose values (and keys, with `key_schema`) are Avro, serialized by Apicurio's
    AvroKafkaSerializer with auto-registration into the registry at `registry_url` (Apicurio's API) in
    wire mode `wire` (see `avro_converter`). `values` and `keys` are the datums in Avro's JSON encoding
    (unions as {"type": value}, bytes and fixed as strings of code points 0-255: `avro_bytes`)."""
    values = list(values)
    keys = list(keys) if keys is not None else [None] * len(values)
    if len(keys) != len(values):
        raise ValueError("%d keys for %d values" % (len(keys), len(values)))
    spec = {"bootstrap": bootstrap, "registry": registry_url, "topic": topic,
            "serde": wire_config(wire), "valueSchema": value_schema, "keySchema": key_schema}
    return _run_helper(HELPER, spec, [{"key": k, "value": v} for k, v in zip(keys, values)], workdir)


def produce_serde(bootstrap: str, registry_url: str, topic: str, fmt: str, schema: str, records, workdir=None,
                  serde=None) -> int:
    """Produce Protobuf (`fmt` "protobuf": `schema` is the .proto text, auto-registered) or JSON Schema
    ("jsonschema": `schema` is the JSON Schema, which must be registered as `<topic>-value` first:
    `Registry.register`) records with Apicurio's serializers (tests/registry/helper/ProduceSerde.java).
    `records`: dicts {"value": JSON value[, "any": {"field", "typeUrl"}]}."""
    spec = {"bootstrap": bootstrap, "registry": registry_url, "topic": topic, "format": fmt, "schema": schema,
            "serde": dict(serde or {})}
    return _run_helper(SERDE_HELPER, spec, list(records), workdir)


def _run_helper(source: Path, spec: dict, records: list, workdir) -> int:
    tmp = Path(tempfile.mkdtemp(prefix=source.stem + "-", dir=str(workdir) if workdir else None))
    (tmp / "spec.json").write_text(json.dumps(spec))
    (tmp / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    cp = [converter_classpath(), kafka.classpath()]
    argv = java_command(str(source), cp, [tmp / "spec.json", tmp / "records.jsonl"], heap="256m",
                        sysprops={"org.slf4j.simpleLogger.defaultLogLevel": "warn"})
    res = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    (tmp / "helper.log").write_text("$ %s\n%s\n%s" % (" ".join(argv), res.stdout, res.stderr))
    if res.returncode != 0:
        raise RuntimeError("%s failed (%s):\n$ %s\n%s%s" % (source.name, res.returncode, " ".join(argv),
                                                            res.stdout[-4000:], res.stderr[-4000:]))
    produced = int(res.stdout.strip().split()[-1])
    if produced != len(records):
        raise RuntimeError("%s produced %d of %d records" % (source.name, produced, len(records)))
    return produced


def avro_bytes(data: bytes) -> str:
    """Avro's JSON encoding of a bytes or fixed value: one code point per byte."""
    return data.decode("latin-1")
