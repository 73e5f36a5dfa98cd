"""Real Kafka from Maven Central jars: resolve them once, run a single-node KRaft broker, create
topics, produce and consume with confluent_kafka.

Jars: `tests/kafka/<line>/pom.xml` resolves the broker, Connect runtime, connect-json, kafka-tools
and a logging backend into `tests/.cache/kafka-<version>/lib` (gitignored), once.
"""
import base64
import fcntl
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

from . import ports
from .process import ManagedProcess, java_command, kafka_opts_words

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
KAFKA_DIR = TESTS / "kafka"
CACHE = Path(os.environ.get("KAFKA_HARNESS_CACHE", TESTS / ".cache"))

# Kafka line -> exact version (the POM in tests/kafka/<line>/ pins the same one).
VERSIONS = {"4.4": "4.4.0", "3.9": "3.9.2", "3.4": "3.4.1"}
DEFAULT = "4.4"


def version_of(line: str) -> str:
    if line in VERSIONS:
        return VERSIONS[line]
    if line in VERSIONS.values():
        return line
    raise ValueError("unknown Kafka line %r (known: %s)" % (line, ", ".join(VERSIONS)))


def line_of(line_or_version: str) -> str:
    v = version_of(line_or_version)
    return ".".join(v.split(".")[:2])


def lib_dir(line: str = DEFAULT) -> Path:
    """The directory holding every jar of that Kafka version; resolved with Maven on first use."""
    version = version_of(line)
    lib = CACHE / ("kafka-%s" % version) / "lib"
    marker = lib.parent / ".complete"
    if marker.exists():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    with open(lib.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            pom = KAFKA_DIR / line_of(line) / "pom.xml"
            t0 = time.monotonic()
            cmd = ["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(pom), "dependency:copy-dependencies",
                   "-Dcache.dir=%s" % lib]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise RuntimeError("resolving Kafka %s failed:\n$ %s\n%s%s"
                                   % (version, " ".join(cmd), res.stdout[-4000:], res.stderr[-4000:]))
            jars = list(lib.glob("*.jar"))
            if not any(j.name.startswith("connect-runtime-") for j in jars):
                raise RuntimeError("resolving Kafka %s left no connect-runtime jar in %s" % (version, lib))
            marker.write_text("%d jars in %.1f s\n" % (len(jars), time.monotonic() - t0))
    return lib


def classpath(line: str = DEFAULT) -> str:
    return str(lib_dir(line) / "*")


def logging_sysprops(line: str = DEFAULT) -> dict:
    """System properties that point the JVM's logging backend at tests/kafka's config."""
    if version_of(line).startswith("3."):
        return {"log4j.configuration": "file:%s" % (KAFKA_DIR / "log4j.properties")}
    return {"log4j2.configurationFile": "file:%s" % (KAFKA_DIR / "log4j2.properties")}


def kafka_java(main_class, args, log_path, name, line=DEFAULT, heap="512m", sysprops=None, extra_classpath=(),
               java=None, kafka_opts=None):
    """A Kafka JVM. `java`: the java binary (default: `process.java_bin()`). `kafka_opts` (a str, as
    a user sets `KAFKA_OPTS`): start it as Kafka's bin/kafka-run-class.sh does, i.e. the harness adds
    no `--enable-native-access` of its own and the words of `kafka_opts` go between the classpath and
    the main class, where the script puts $KAFKA_OPTS; the variable is also set in the child's
    environment. None (the default) keeps the harness' own flags."""
    props = logging_sysprops(line)
    props.update(sysprops or {})
    cp = [str(c) for c in extra_classpath] + [classpath(line)]
    env = None
    if kafka_opts is None:
        argv = java_command(main_class, cp, args, heap=heap, sysprops=props, java=java)
    else:
        argv = java_command(main_class, cp, args, heap=heap, sysprops=props, java=java, native_access=False,
                            after_classpath=kafka_opts_words(kafka_opts))
        env = {"KAFKA_OPTS": kafka_opts}
    return ManagedProcess(name, argv, log_path, env=env)


def write_properties(path, props) -> Path:
    """Write a .properties file from a dict (or return an existing text verbatim if a str)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(props, str):
        path.write_text(props)
    else:
        path.write_text("".join("%s=%s\n" % (k, v) for k, v in props.items()))
    return path


def random_cluster_id() -> str:
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class KafkaBroker:
    """A single-node KRaft broker+controller on 127.0.0.1."""

    def __init__(self, workdir, line: str = DEFAULT, heap: str = "768m"):
        self.workdir = Path(workdir)
        self.line = line
        self.heap = heap
        self.port = None
        self.controller_port = None
        self.process = None
        self._admin = None

    @property
    def bootstrap(self) -> str:
        return "127.0.0.1:%d" % self.port

    def start(self, timeout: float = 180):
        from confluent_kafka.admin import AdminClient

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port, self.controller_port = ports.free_ports(2)
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": "1@127.0.0.1:%d" % self.controller_port,
            "listeners": "PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d" % (self.port, self.controller_port),
            "advertised.listeners": "PLAINTEXT://127.0.0.1:%d" % self.port,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.workdir / "kraft"),
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "delete.topic.enable": "true",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.partitions": "1",
            "default.replication.factor": "1",
        }
        server_props = write_properties(self.workdir / "server.properties", props)
        fmt_log = self.workdir / "format.log"
        fmt = kafka_java("kafka.tools.StorageTool",
                         ["format", "-t", random_cluster_id(), "-c", server_props, "-g"],
                         fmt_log, "kafka-storage-format", self.line, heap="256m").start()
        try:
            rc = fmt.proc.wait(timeout=120)
        finally:
            fmt.stop()
        if rc != 0:
            fmt.fail("StorageTool format exited with %s" % rc)

        self.process = kafka_java("kafka.Kafka", [server_props], self.workdir / "broker.log",
                                  "kafka-broker", self.line, heap=self.heap).start()
        self.process.wait_for_log(r"Kafka Server started", timeout, "started")
        self._admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})

        def admin_ok():
            self._admin.list_topics(timeout=5)
            return True

        self.process.wait_for(admin_ok, 60, "answering admin requests")
        return self

    def stop(self):
        self._admin = None  # drop the client first so it does not log the broker going away
        if self.process:
            self.process.stop(timeout=30)

    # -- admin -----------------------------------------------------------------------------
    @property
    def admin(self):
        return self._admin

    def topics(self):
        return set(self._admin.list_topics(timeout=10).topics)

    def create_topic(self, name: str, partitions: int = 1, timeout: float = 60, config=None):
        """Create a topic and wait until its partitions have leaders. Retries while a topic of the
        same name is still being deleted."""
        from confluent_kafka.admin import NewTopic
        from confluent_kafka import KafkaException

        deadline = time.monotonic() + timeout
        while True:
            fut = self._admin.create_topics(
                [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})],
                operation_timeout=30)[name]
            try:
                fut.result()
                break
            except KafkaException as e:
                err = e.args[0]
                if err.name() == "TOPIC_ALREADY_EXISTS" and name in self.topics():
                    # may still be marked for deletion; only accept it if it is ours
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        while True:
            md = self._admin.list_topics(topic=name, timeout=10).topics.get(name)
            if md is not None and md.error is None and len(md.partitions) == partitions and all(
                    p.leader >= 0 for p in md.partitions.values()):
                return name
            if time.monotonic() > deadline:
                raise TimeoutError("topic %s has no leaders after %.0f s" % (name, timeout))
            time.sleep(0.2)

    def delete_topic(self, name: str, timeout: float = 60):
        """Delete a topic if it exists and wait until the broker no longer lists it."""
        from confluent_kafka import KafkaException

        if name not in self.topics():
            return
        try:
            self._admin.delete_topics([name], operation_timeout=30)[name].result()
        except KafkaException as e:
            if e.args[0].name() != "UNKNOWN_TOPIC_OR_PART":
                raise
        deadline = time.monotonic() + timeout
        while name in self.topics():
            if time.monotonic() > deadline:
                raise TimeoutError("topic %s still listed %.0f s after deletion" % (name, timeout))
            time.sleep(0.3)

    def delete_group(self, group: str, timeout: float = 60):
        """Delete a consumer group (e.g. a sink connector's `connect-<name>`) if it exists. Retries
        while it still has members (a worker that is shutting down) and while a fresh broker's group
        coordinator is still loading."""
        from confluent_kafka import KafkaException

        deadline = time.monotonic() + timeout
        while True:
            try:
                self._admin.delete_consumer_groups([group], request_timeout=15)[group].result()
                return True
            except KafkaException as e:
                name = e.args[0].name()
                if name in ("GROUP_ID_NOT_FOUND", "_UNKNOWN_GROUP"):
                    return False
                retriable = ("NON_EMPTY_GROUP", "NOT_COORDINATOR", "COORDINATOR_LOAD_IN_PROGRESS",
                             "COORDINATOR_NOT_AVAILABLE")
                if name not in retriable or time.monotonic() > deadline:
                    raise
            time.sleep(0.5)

    def committed(self, group: str, topic: str, partitions: int = 1) -> dict:
        """{partition: committed offset} of a consumer group (missing partitions are left out)."""
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        req = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(partitions)])
        res = self._admin.list_consumer_group_offsets([req])[group].result()
        return {tp.partition: tp.offset for tp in res.topic_partitions if tp.offset >= 0}

    # -- data ------------------------------------------------------------------------------
    def produce(self, topic: str, values, keys=None, partition=None, headers=None):
        """Produce records synchronously. `values` items may be bytes, str, dicts/lists (sent as
        compact JSON) or None (a tombstone). Returns the number of records acknowledged."""

        def enc(v):
            if v is None or isinstance(v, bytes):
                return v
            if isinstance(v, str):
                return v.encode()
            return json.dumps(v, separators=(",", ":")).encode()

        values = list(values)
        keys = list(keys) if keys is not None else [None] * len(values)
        producer = ReliableProducer(self.bootstrap)
        for k, v in zip(keys, values):
            producer.send(topic, enc(v), key=enc(k), partition=partition, headers=headers)
        producer.flush()
        return len(values)

    def consume(self, topic: str, count: int, timeout: float = 30, with_headers: bool = False):
        """Read up to `count` records from the beginning of every partition of `topic` (assigned,
        no consumer group); returns a list of (key, value) bytes, or (key, value, {header: str})
        with `with_headers`."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "harness-unused",
                             "enable.auto.commit": False, "log_level": 3})
        out = []
        try:
            parts = self._admin.list_topics(topic=topic, timeout=10).topics[topic].partitions
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
            deadline = time.monotonic() + timeout
            while len(out) < count and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                if msg.error():
                    raise RuntimeError("consume %s: %s" % (topic, msg.error()))
                if with_headers:
                    hs = {k: (v.decode("utf-8", "replace") if v is not None else None) for k, v in (msg.headers() or [])}
                    out.append((msg.key(), msg.value(), hs))
                else:
                    out.append((msg.key(), msg.value()))
        finally:
            consumer.close()
        return out


FILE_CONNECTOR_VERSIONS = {"4.4": "4.3.1", "3.9": "3.9.1", "3.4": "3.4.1"}


class ReliableProducer:
    """An idempotent `acks=all` producer that waits for room when its queue is full instead of
    failing, counts what it sent per partition (`produced`) and raises on `flush` when anything
    was not delivered."""

    def __init__(self, bootstrap: str):
        from confluent_kafka import Producer
        self._producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                   "enable.idempotence": True, "linger.ms": 5})
        self.errors = []
        self.produced = {}

    def send(self, topic: str, value, key=None, partition=None, headers=None):
        kwargs = {"key": key, "value": value, "on_delivery": lambda err, msg: err and self.errors.append(err)}
        if partition is not None:
            kwargs["partition"] = partition
        if headers:
            kwargs["headers"] = headers
        while True:
            try:
                self._producer.produce(topic, **kwargs)
                break
            except BufferError:
                self._producer.poll(0.1)
        self.produced[partition] = self.produced.get(partition, 0) + 1
        self._producer.poll(0)

    def flush(self, timeout: float = 60):
        left = self._producer.flush(timeout)
        if left or self.errors:
            raise RuntimeError("produce: %d not delivered, errors: %s" % (left, self.errors[:5]))


def file_connector_plugins(line: str = DEFAULT) -> Path:
    """A plugin.path folder holding Kafka's own FileStreamSource/Sink connector (the
    `connect-file` artifact) in its own plugin subfolder; used by the harness' self-tests as a
    known-good connector. Maven Central has no connect-file for every release (none for 4.4.0
    or 3.9.2), so the newest one of the same line is used: Connect plugins built against an older
    connect-api run on newer workers."""
    version = FILE_CONNECTOR_VERSIONS[line_of(line)]
    root = CACHE / ("kafka-%s" % version_of(line)) / "plugins"
    jar_dir = root / "connect-file"
    if not list(jar_dir.glob("connect-file-*.jar")):
        jar_dir.mkdir(parents=True, exist_ok=True)
        cmd = ["mvn", "-B", "-q", "-Dstyle.color=never", "dependency:copy", "-Dartifact=org.apache.kafka:connect-file:%s" % version,
               "-DoutputDirectory=%s" % jar_dir]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError("resolving connect-file %s failed:\n%s%s" % (version, res.stdout[-4000:], res.stderr[-4000:]))
    return root
