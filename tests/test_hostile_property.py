"""Property tests of the commands added after the reader suite: whatever the input, `apply`, `consensus` and
`impact` end in a result or a coded error - never another exception, never a decision lost without a code.

Inputs are drawn by hypothesis (derandomised in CI, see conftest): review files of every shape `apply` reads
(decision rows, Label Studio tasks, Argilla records, mixtures, damaged JSON), pairs of small annotations for
`consensus`, and version pairs for `impact` (which must refuse bad versions before any training starts).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_review_run import TEXTS, make_run

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
IDS = ["f_type", "f_ood", "f_shrink2", "nope", "", None]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10 ** 12), st.floats(allow_nan=True),
                    st.text(max_size=8), st.sampled_from(["accept", "reject", "ACCEPT", "maybe"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=8)


def decision_rows():
    return st.fixed_dictionaries({"finding_id": st.sampled_from(IDS), "decision": scalars},
                                 optional={"label": scalars, "start": scalars, "end": scalars, "spans": json_values})


def ls_tasks():
    region = st.fixed_dictionaries({"value": json_values}, optional={"type": scalars, "from_name": scalars})
    ann = st.fixed_dictionaries({"result": st.one_of(st.lists(region, max_size=2), json_values)},
                                optional={"was_cancelled": scalars, "updated_at": scalars, "lead_time": scalars})
    return st.fixed_dictionaries({"id": scalars}, optional={
        "data": st.one_of(st.fixed_dictionaries({"doc_id": st.sampled_from(["n1", "n2", "zz"]),
                                                 "text": st.sampled_from(list(TEXTS.values()))}), json_values),
        "annotations": st.one_of(st.lists(ann, max_size=2), json_values)})


def argilla_records():
    resp = st.fixed_dictionaries({"value": json_values}, optional={"status": scalars, "user_id": scalars})
    return st.fixed_dictionaries({"fields": json_values}, optional={
        "id": scalars, "metadata": st.one_of(st.fixed_dictionaries({"doc_id": st.sampled_from(["n1", "n2", "x"])}),
                                             json_values),
        "responses": st.one_of(st.fixed_dictionaries({"spans": st.one_of(st.lists(resp, max_size=2), json_values)}),
                               json_values),
        "status": scalars})


review_files = st.one_of(
    st.lists(decision_rows(), max_size=4).map(lambda rows: ("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows))),
    st.lists(st.one_of(decision_rows(), ls_tasks(), argilla_records(), json_values), max_size=4)
    .map(lambda items: ("d.json", json.dumps(items))),
    st.binary(max_size=120).map(lambda b: ("d.json", b.decode("latin-1"))),
)


@pytest.fixture(scope="module")
def review_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("prop"))


@SETTINGS
@given(case=review_files)
def test_property_apply_ends_in_a_version_or_a_coded_error(case, review_run, tmp_path):
    """Every decision file: a version (whose counts account for every decision read) or a coded error."""
    from spanqa.review.apply import apply_run
    from spanqa.run.reader import load_run

    run_dir, cpath = review_run
    name, text = case
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    out = tmp_path / "v"
    try:
        result, version = apply_run(load_run(run_dir, corpus=cpath), out, accept=path)
    except SpanqaError:
        return
    c = version["counts"]
    # decisions that came out of the file are applied, rejected or reported - none vanishes
    assert c["accepted"] + c["rejected"] >= 1
    assert (out / "changelog.jsonl").is_file() and (out / "VERSION.json").is_file()


def _corpus(spans_by_doc: dict[str, list[tuple[int, int, str]]]) -> Corpus:
    texts = {"a": "Pt on aspirin 81mg daily.", "b": "Warfarin 5 mg held."}
    return Corpus.from_docs([Document(d, texts[d], tuple(Span(d, s, e, lab) for s, e, lab in spans_by_doc.get(d, ())
                                                         if 0 <= s < e <= len(texts[d])))
                             for d in texts if d in spans_by_doc])


spans = st.lists(st.tuples(st.integers(-2, 30), st.integers(-2, 30), st.sampled_from(["Drug", "Dose", "", " x"])),
                 max_size=4)
annotations = st.dictionaries(st.sampled_from(["a", "b"]), spans, min_size=0, max_size=2)


@SETTINGS
@given(sides=st.lists(annotations, min_size=0, max_size=4), method=st.sampled_from(["dawid-skene", "vote"]))
def test_property_consensus_ends_in_a_corpus_or_a_coded_error(sides, method):
    """Any number of annotators, documents on some sides only, empty or odd labels: a consensus corpus or a coded
    error; every consensus span lies inside its document."""
    from spanqa.compare.consensus import dawid_skene, majority_vote

    try:
        corpora = [_corpus(s) for s in sides]
        result = dawid_skene(corpora) if method == "dawid-skene" else majority_vote(corpora)
    except SpanqaError:
        return
    for d in result.corpus.documents:
        assert all(0 <= s.start < s.end <= len(d.text) for s in d.spans or ())


@settings(max_examples=25, deadline=None)
@given(before=annotations, after=annotations, with_eval=st.booleans())
def test_property_impact_refuses_bad_versions_before_training(before, after, with_eval):
    """Versions with nothing to learn, different notes without --eval, an evaluation corpus without labels: a coded
    error before any training starts (the trainer is never reached); otherwise measuring may begin."""
    from spanqa.core.config import load_config
    from spanqa.measure.impact.measure import Version, measure_impact

    class Reached(Exception):
        pass

    def stop(msg: str) -> None:
        raise Reached(msg)

    evals = [("gold", _corpus(after))] if with_eval else []
    try:
        measure_impact([Version("before", _corpus(before)), Version("after", _corpus(after))],
                       load_config(overrides=["model.init=random_tiny", "train.folds=2"]), evals=evals, seeds=1,
                       notify=stop)
    except SpanqaError as err:
        assert err.code in ("E601", "E602"), str(err)
    except Reached:
        b, a = _corpus(before), _corpus(after)
        assert any(d.spans for d in b.documents) and any(d.spans for d in a.documents)
        if not with_eval:
            assert [d.id for d in b.documents] == [d.id for d in a.documents]
