"""Free TCP ports on the loopback interface.

Every server the harness starts listens on 127.0.0.1 only. A port is found by binding port 0 and
closing the socket; the ports handed out by this process are remembered so two servers started
back to back never get the same one.
"""
import socket
import threading

_lock = threading.Lock()
_given = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now and that this process has not
    handed out before."""
    with _lock:
        for _ in range(200):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
            if port not in _given:
                _given.add(port)
                return port
    raise RuntimeError("no free port found on %s" % host)


def free_ports(n: int, host: str = "127.0.0.1") -> list:
    return [free_port(host) for _ in range(n)]


def is_listening(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
