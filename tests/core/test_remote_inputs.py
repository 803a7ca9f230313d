"""Inputs by URL and by fileset: a file served over HTTP on 127.0.0.1 reads to the same EventSet as the local
file; ``file.root:Tree`` picks the tree; a coffea-style fileset JSON lists the inputs."""

from __future__ import annotations

import functools
import http.server
import io
import json
import threading

import awkward as ak
import numpy as np
import pytest

from anomalyscope.core.data import EventSet
from anomalyscope.core.data.ingest import ingest
from anomalyscope.core.data.lhco import LHCOFormat, write_lhco_table
from anomalyscope.core.data.nanoaod import BranchMap, NanoAODFormat, export_root
from anomalyscope.core.data.sources import Input, fileset, parse
from anomalyscope.core.errors import InputError
from tests.core.test_readers import back_to_back


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that answers byte-range requests, as web and EOS servers do (uproot reads ROOT
    files by ranges); the standard library's handler sends whole files only."""

    def log_message(self, *args):
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not rng.startswith("bytes=") or "," in rng:
            return super().send_head()
        try:
            f = open(path, "rb")  # noqa: SIM115 (closed by copyfile's caller)
        except OSError:
            self.send_error(404)
            return None
        size = f.seek(0, 2)
        lo, _, hi = rng[6:].partition("-")
        start = int(lo) if lo else max(0, size - int(hi))
        stop = min(int(hi) if hi and lo else size - 1, size - 1)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{stop}/{size}")
        self.send_header("Content-Length", str(stop - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        f.seek(start)
        return io.BytesIO(f.read(stop - start + 1))

    def end_headers(self):
        if self.headers.get("Range") is None:
            self.send_header("Accept-Ranges", "bytes")
        super().end_headers()


@pytest.fixture()
def served(tmp_path):
    """A directory served over HTTP, with byte ranges, on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(RangeHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _same(a: EventSet, b: EventSet) -> bool:
    cols = ["mjj", "deta", "j1.pt", "j2.msoftdrop", "j1.tau21"]
    return len(a) == len(b) and all(np.array_equal(a.column(c), b.column(c), equal_nan=True) for c in cols)


def test_a_root_file_over_http_reads_like_the_local_file(served, qcd_es, tmp_path):
    root, url = served
    export_root(qcd_es, root / "nano.root")
    opts = {"scheduler": None, "progress": False}
    local = ingest([root / "nano.root"], NanoAODFormat(), tmp_path / "local", **opts)
    remote = ingest([f"{url}/nano.root"], NanoAODFormat(), tmp_path / "remote", **opts)
    assert len(local) > 100 and _same(local, remote)
    assert remote.schema["source"]["files"][0]["path"] == f"{url}/nano.root"  # recorded as given, not mangled


def test_an_lhco_file_over_http_reads_like_the_local_file(served, tmp_path):
    root, url = served
    write_lhco_table(root / "events.h5", back_to_back(40), np.zeros(40))
    opts = {"scheduler": None, "progress": False}
    local = ingest([root / "events.h5"], LHCOFormat(), tmp_path / "local", **opts)
    remote = ingest([f"{url}/events.h5"], LHCOFormat(), tmp_path / "remote", **opts)
    assert len(local) == 40 and ak.array_equal(local.load(truth=True), remote.load(truth=True), equal_nan=True)
    with pytest.raises(InputError, match=r"^http://127.0.0.1:\d+/missing.h5: cannot be fetched"):
        ingest([f"{url}/missing.h5"], LHCOFormat(), tmp_path / "x", **opts)


def test_tree_syntax_urls_and_filesets(qcd_es, tmp_path):
    assert parse("root://eos.cern.ch//eos/cms/f.root:Events") == Input("root://eos.cern.ch//eos/cms/f.root", "Events")
    assert parse("root://host//a/b.root").location == "root://host//a/b.root"  # never through Path
    assert parse("data/f.h5") == Input("data/f.h5") and parse("f.root:Tree").tree == "Tree"
    export_root(qcd_es, tmp_path / "nano.root")
    other_tree = NanoAODFormat(mapping=BranchMap(tree="Skim"))  # the mapping names another tree
    (tmp_path / "fileset.json").write_text(
        json.dumps({"qcd": {"files": {"nano.root": "Events"}, "metadata": {"xsec_pb": 10.5}}})
    )
    files, meta = fileset(tmp_path / "fileset.json")
    assert files == [Input(str(tmp_path / "nano.root"), "Events")] and meta == {"dataset": "qcd", "xsec_pb": 10.5}
    opts = {"scheduler": None, "progress": False}
    es = ingest([str(f) for f in files], other_tree, tmp_path / "es", **opts)  # "…/nano.root:Events" wins
    assert len(es) == len(ingest([tmp_path / "nano.root"], NanoAODFormat(), tmp_path / "es0", **opts)) > 100
    with pytest.raises(InputError, match="no tree 'Skim'"):
        ingest([tmp_path / "nano.root"], other_tree, tmp_path / "es1", **opts)
    (tmp_path / "two.json").write_text(json.dumps({"a": {"files": ["x.root"]}, "b": {"files": ["y.root"]}}))
    with pytest.raises(InputError, match="holds 2 datasets"):
        fileset(tmp_path / "two.json")


def test_read_takes_a_fileset(qcd_es, tmp_path, capsys):
    from anomalyscope.core.cli import main

    export_root(qcd_es, tmp_path / "nano.root")
    (tmp_path / "fs.json").write_text(json.dumps({"qcd": {"files": {"nano.root": "Events"}}}))
    base = ["--out", str(tmp_path / "es"), "--scheduler", "none", "--quiet"]
    assert main(["read", "nanoaod", "--fileset", str(tmp_path / "fs.json"), *base]) == 0
    assert len(EventSet.open(tmp_path / "es")) > 100
    capsys.readouterr()
    assert main(["read", "nanoaod", "--dataset", "qcd", *base]) == 2
    assert capsys.readouterr().err.strip() == "error: read: --dataset needs --fileset"
