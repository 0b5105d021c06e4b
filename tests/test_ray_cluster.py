"""``spanqa audit --ray ADDRESS`` against a real two-node Ray cluster gives the findings of a plain audit.

Two ``ray start`` processes on localhost - a head and a second node, one CPU each - joined at a free port; the
audit runs in its own process as a user would run it, connects to the head's address, sends the corpus shards and
the folds there, and writes its run folder. Ray is in the test extra; without it (or where a node cannot start)
the test skips and says why.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from spanqa.core.document import Corpus
from spanqa.core.span import Span
from spanqa.corpus.formats import write_corpus

pytest.importorskip("ray", reason="Ray is in the test extra: pip install -e '.[test]'")
BIN = Path(sys.executable).parent
TINY = ["model.init='random_tiny'", "train.folds=2", "train.epochs=1", r"data.group_regex='^(p\d+)_'"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nodes(address: str, env: dict) -> int:
    out = subprocess.run([str(BIN / "ray"), "status", "--address", address], capture_output=True, text=True, env=env)
    return out.stdout.count(" node_")


@pytest.fixture(scope="module")
def cluster():
    """A head (its own temporary folder) and a second node, one CPU each; both stopped afterwards."""
    if not (BIN / "ray").exists():
        pytest.skip(f"no ray command beside {sys.executable}")
    # one token shared by the nodes, `ray status` and the audit (Ray >= 2.59 authenticates local clusters by default;
    # its default token file in ~ may belong to another cluster)
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    tmp = Path(tempfile.mkdtemp(prefix="spanqa-ray-"))  # short: Ray's socket paths must fit in 107 characters
    address = f"127.0.0.1:{_free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "start_new_session": True}
    procs = [subprocess.Popen([str(BIN / "ray"), "start", "--head", "--block", f"--port={address.split(':')[1]}",
                               "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={tmp}",
                               "--disable-usage-stats"], **quiet)]
    try:
        for want in (1, 2):
            deadline = time.monotonic() + 120
            while _nodes(address, env) < want:
                if time.monotonic() > deadline or procs[-1].poll() is not None:
                    pytest.skip(f"Ray could not start node {want} at {address} on this machine")
                time.sleep(0.5)
            if want == 1:
                procs.append(subprocess.Popen([str(BIN / "ray"), "start", "--block", f"--address={address}",
                                               "--num-cpus=1"], **quiet))
        yield address, env
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):  # Ray's own graceful stop takes ~30 s; nothing of this throwaway cluster is kept
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def _nested(doc):
    """The test corpus's note with a Medication span over "drug 81mg", which nests the Drug and the Dose."""
    drug, dose = doc.spans[0], next(s for s in doc.spans if s.label == "Dose")
    return doc.evolve(spans=doc.spans + (Span(doc.id, drug.start, dose.end, "Medication"),))


@pytest.mark.slow
def test_audit_on_a_two_node_ray_cluster_equals_a_plain_audit(cluster, tmp_path):
    """Nested labels, fast mode: one layered head per fold, trained on the cluster into the folder the audit looks
    for it in (fine-tuning's one flat run per layer: tests/test_distributed.py, without Ray)."""
    from test_distributed import _doc

    address, env = cluster
    assert _nodes(address, env) == 2
    drugs = ["aspirin", "warfarin", "metoprolol", "lisinopril"]
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(Corpus.from_docs([_nested(_doc(f"p{i // 2}_n{i}", drugs[i % 4])) for i in range(8)]), corpus,
                 "jsonl")
    sets = [a for s in [*TINY, "train.mode=fast"] for a in ("--set", s)]
    runs = {}
    # one encoding shard: the same batches as a plain run (more shards may move a float16 rounding step)
    for name, extra in (("plain", []), ("ray", ["--ray", address, "--shards", "1"])):
        out = tmp_path / name
        done = subprocess.run([str(BIN / "spanqa"), "audit", str(corpus), "--out", str(out), "-q", *sets, *extra],
                              capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        runs[name] = out
    summary = json.loads((runs["ray"] / "summary.json").read_text())
    assert len(summary["layers"]) == 2  # Medication in one layer, Drug and Dose in the other
    for name in ("findings.jsonl", "spans.jsonl", "predictions.jsonl"):
        assert (runs["ray"] / name).read_bytes() == (runs["plain"] / name).read_bytes(), name
    assert summary["kfold"]["resumed_folds"] == [0, 1]  # the folds ran on the cluster; the audit found them finished
    folds = runs["ray"] / "layers" / "kfold" / "folds"
    assert sorted(p.name for p in folds.glob("fold_*.done")) == ["fold_0.done", "fold_1.done"]
