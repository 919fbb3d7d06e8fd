"""Everything ``selectchat server`` can be told on its command line."""

import sys
from dataclasses import dataclass, field

from ..chat import Settings


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0
    rooms: list = field(default_factory=list)   # [(name, limit, key)]
    settings: Settings = field(default_factory=Settings)
    max_clients: int = 1000
    max_sendq: int = 256 * 1024
    backend: str = "select"
    console: bool = True
    console_thread: bool = sys.platform == "win32"
    exit_on_eof: bool = False
    log_file: str | None = None      # append the log here ("-": stderr)
    log_size: int = 1000             # entries kept in memory for the console
    tick_interval: float = 1.0       # how often the core checks for idle clients
    live_port: int | None = None     # serve the live web view on this port (None: no live view)
    live_text: bool = False          # the live view may show what users wrote
