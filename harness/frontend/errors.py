"""Front-end failures: a .wast the front-end cannot turn into commands (one line, naming
the file and where possible the line). The whole file is recorded as `error`."""


import re


class FrontendError(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        if line is None:  # "file.wast:12:3: error: ..." (wabt's form)
            m = re.search(r"\.wast:(\d+):\d+:", message)
            line = int(m.group(1)) if m else 0
        self.line = line
