"""The environment of one simulated Odoo.sh container: its hostname, addresses and stage.

Only the *environment* is changed, never the addon: `socket.gethostname()` answers the container's
hostname, `socket.getaddrinfo(<that hostname>)` answers its addresses (as /etc/hosts does in a
container; any other name resolves as usual), `socket.if_nameindex()` lists no interface (the
simulated container has no real network interface to read addresses from), and ODOO_STAGE is set
as Odoo.sh sets it. The addresses are data only: nothing ever connects to them.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Container:
    hostname: str
    addresses: tuple[str, ...] = field(default_factory=tuple)
    stage: str = ""

    def to_json(self) -> dict:
        return {"hostname": self.hostname, "addresses": list(self.addresses), "stage": self.stage}

    @classmethod
    def from_json(cls, data: dict) -> Container:
        return cls(data["hostname"], tuple(data.get("addresses") or ()), data.get("stage") or "")


def enter(container: Container) -> None:
    """Make this process (and the processes it forks) run inside `container`."""
    real_getaddrinfo = socket.getaddrinfo
    hostname = container.hostname
    addresses = list(container.addresses)

    def gethostname() -> str:
        return hostname

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, bytes):
            host = host.decode("idna")
        if host is not None and host.lower() == hostname.lower():
            kind = type or socket.SOCK_STREAM
            protocol = proto or socket.IPPROTO_TCP
            port_number = port if isinstance(port, int) else int(port or 0)
            answers = []
            for address in addresses:
                if ":" in address:
                    if family in (0, socket.AF_INET6):
                        answers.append((socket.AF_INET6, kind, protocol, "", (address, port_number, 0, 0)))
                elif family in (0, socket.AF_INET):
                    answers.append((socket.AF_INET, kind, protocol, "", (address, port_number)))
            if not answers:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return answers
        return real_getaddrinfo(host, port, family, type, proto, flags)

    def if_nameindex():
        return []

    socket.gethostname = gethostname
    socket.getaddrinfo = getaddrinfo
    socket.if_nameindex = if_nameindex
    if container.stage:
        os.environ["ODOO_STAGE"] = container.stage
    else:
        os.environ.pop("ODOO_STAGE", None)
