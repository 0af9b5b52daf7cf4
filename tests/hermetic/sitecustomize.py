"""Keep a test run off the network: every Python process started with this folder on PYTHONPATH
(pytest, each notebook's kernel, the llama.cpp subprocess checks) refuses connections and name
look-ups beyond loopback, with an error that says so. ``book.py test`` puts it there.

A test that reaches for the network then fails at once and names the address, instead of
quietly depending on the machine it ran on.
"""

import ipaddress
import os
import socket

if os.environ.get("LLMBOOK_HERMETIC") == "1":
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex
    _getaddrinfo = socket.getaddrinfo

    def _is_loopback(host) -> bool:
        if host in (None, "", "localhost") or str(host).endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def _refuse(what: str, host) -> OSError:
        return OSError(f"hermetic test run: {what} {host!r} refused (only loopback is allowed; "
                       "tests must not depend on the network)")

    def _checked_address(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise _refuse("connection to", address[0])

    def connect(self, address):
        _checked_address(self, address)
        return _connect(self, address)

    def connect_ex(self, address):
        _checked_address(self, address)
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(socket.EAI_NONAME, str(_refuse("name look-up of", host)))
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
