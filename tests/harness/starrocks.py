"""Starting the StarRocks stand-in for tests and the demo: tests/harness/emulator.py's `Emulator`
(owned by the emulator), with its log kept in the caller's folder."""
import inspect
from pathlib import Path


def start_emulator(workdir):
    """Start an Emulator on free loopback ports; its log goes into `workdir` when the wrapper
    accepts a folder or log path. The caller stops it (`.stop()`)."""
    from .emulator import Emulator

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    params = inspect.signature(Emulator).parameters
    kwargs = {}
    for name in ("workdir", "work_dir", "log_dir"):
        if name in params:
            kwargs[name] = workdir
    for name in ("log_path", "log_file"):
        if name in params:
            kwargs[name] = workdir / "emulator.log"
    emu = Emulator(**kwargs)
    if callable(getattr(emu, "start", None)) and not getattr(emu, "query_port", None):
        emu.start()
    return emu


def sink_config(emu, database="d", **extra):
    """A connector config for our sink against `emu` (schemaless JSON values, root user); `extra`
    keys are added or override (dots in keys: pass a dict with **)."""
    config = {
        "connector.class": "com.starrocks.connector.kafka.StarRocksSinkConnector",
        "tasks.max": "1",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "starrocks.http.url": "127.0.0.1:%d" % emu.fe_http_port,
        "starrocks.database.name": database,
        "starrocks.username": "root",
        "starrocks.password": "",
        # the query port the schema checks read columns on (docs/schemas.md)
        "starrocks.query.address": "127.0.0.1:%d" % emu.query_port,
    }
    config.update(extra)
    return config
