"""The shell blocks of a Markdown page, as the docs tests run them.

A block is a fenced ```sh, ```shell or ```bash block. An HTML comment on the line just above
its fence, `<!-- docs-test: not run (why) -->`, keeps it out of the run and must say why. A
line `#=> text` inside a block says what the block's output contains.

Blocks run in order as one shell session, the way a reader types them: each runs in its own
`bash -euo pipefail` (so its exit status is its own), with `set -a` so that every variable it
sets reaches the next block through the environment.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```(sh|shell|bash)\s*$")
NOT_RUN = re.compile(r"^<!-- docs-test: not run \((?P<why>[^)]+)\) -->$")
EXPECT = re.compile(r"^\s*#=> (?P<text>.+?)\s*$")


@dataclass
class Block:
    path: str
    line: int  # of the opening fence, 1-based
    code: str
    not_run: str = ""  # why, when the page says it is not run
    expects: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def shell_blocks(text: str, *, path: str = "") -> list[Block]:
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        if not FENCE.match(lines[i]):
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}:{start + 1}: a shell block is never closed")
        above = NOT_RUN.match(lines[start - 1].strip()) if start else None
        expects = [m.group("text") for m in map(EXPECT.match, body) if m]
        blocks.append(Block(path=path, line=start + 1, code="\n".join(body) + "\n",
                            not_run=above.group("why") if above else "", expects=expects))
        i += 1
    return blocks


@dataclass
class Ran:
    block: Block
    returncode: int
    stdout: str
    stderr: str
    env: dict

    @property
    def missing(self) -> list[str]:
        return [text for text in self.block.expects if text not in self.stdout]

    def explain(self) -> str:
        return (f"{self.block.where} exited {self.returncode}; missing from its output: {self.missing}\n"
                f"--- block\n{self.block.code}--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}")


def run_block(block: Block, *, cwd: Path, env: dict, timeout: int = 120) -> Ran:
    """Run one block in bash -euo pipefail; return its result and the environment it leaves."""
    state = cwd / ".docs-test-env"
    script = cwd / ".docs-test-block.sh"
    script.write_text("set -a\n" + block.code + f'\nenv -0 > "{state}"\n')
    if state.exists():
        state.unlink()
    done = subprocess.run(["bash", "-euo", "pipefail", str(script)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    after = dict(env)
    if done.returncode == 0 and state.exists():
        after = dict(item.split("=", 1) for item in state.read_text().split("\0") if "=" in item)
    return Ran(block, done.returncode, done.stdout, done.stderr, after)


def curl_that_fails_on_http_errors(bin_dir: Path) -> Path:
    """A `curl` first on PATH that adds --fail-with-body: the pages write `curl -s`, which exits 0
    on a 4xx; under test an HTTP error must fail the block, and still print the API's message."""
    real = next(Path(d) / "curl" for d in os.environ["PATH"].split(os.pathsep) if (Path(d) / "curl").is_file())
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "curl"
    shim.write_text(f'#!/bin/sh\nexec "{real}" --fail-with-body "$@"\n')
    shim.chmod(0o755)
    return bin_dir
