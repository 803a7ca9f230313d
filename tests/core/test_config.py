"""A Run's configuration is checked whole before anything is opened or trained: each bad value is one
`error:` line naming the field and the value (the closest known name for a typo)."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from anomalyscope.core.cli import main
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods import REGISTRY
from anomalyscope.core.methods.runner import RunConfig
from anomalyscope.core.params import build, param


def _run_error(tmp_path, capsys, config: dict) -> str:
    """The one line `anomalyscope run` prints for a config (its EventSet does not exist: a value error
    reported first proves the check comes before any data is opened, let alone trained on)."""
    cfg = {"eventset": str(tmp_path / "no-such-eventset"), "out": str(tmp_path / "run"), "methods": ["inclusive"]}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({**cfg, **config}, sort_keys=False))
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert not (tmp_path / "run").exists()
    return err[0]


@pytest.mark.parametrize(
    "config,expected",
    [
        ({"methods": [{"cwola": {"epoch": 5}}]}, "cwola: unknown parameter 'epoch'; did you mean 'epochs'?"),
        ({"folds": "five"}, "folds must be an integer, got 'five'"),
        ({"methods": "inclusive"}, "methods must be a list of method names, got the string 'inclusive'"),
        ({"seed": "x"}, "seed must be an integer, got 'x'"),
        ({"search": {"efficiencies": 0.1}}, "search: efficiencies must be a list of numbers, got 0.1"),
        ({"efficiencies": [0.1]}, "efficiencies belong to the search now"),
        ({"methods": ["cwolla"]}, "unknown method 'cwolla'; did you mean 'cwola'?"),
        ({"methods": ["inclusive", "inclusive"]}, "method 'inclusive' is listed twice"),
        ({"inner_folds": 1}, "inner_folds must be ≥ 2, got 1"),
        ({"folds": True}, "folds must be an integer, got True"),
        ({"sed": 3}, "unknown field 'sed'; did you mean 'seed'?"),
        ({"search": {"toys": "many"}}, "search: toys must be an integer, got 'many'"),
        ({"search": {"binning": "wide"}}, "binning must be 'cms' or a bin width in GeV, got 'wide'"),
        ({"train_windows_at": -3}, "train_windows_at must be > 0, got -3"),
        ({"methods": [{"cwola": 5}]}, "cwola: must be a mapping of parameter: value, got 5"),
    ],
)
def test_each_bad_run_config_is_one_line_naming_field_and_value(tmp_path, capsys, config, expected):
    assert expected in _run_error(tmp_path, capsys, config)


# a mistyped value for each method: a parameter of its own where it has one, else the folds all methods take
MISTYPED = {
    "inclusive": ("folds", "two", "an integer or null"),
    "cut_tau21": ("folds", 1, "≥ 2"),
    "cut_tau32": ("folds", 2.5, "an integer or null"),
    "supervised": ("region", "everywhere", "one of 'windows', 'all'"),
    "iad": ("hidden", [64, "wide"], "a list of integers"),
    "cwola": ("lr", 0, "> 0"),
    "vae_qr": ("combine", "mean", "one of 'min', 'max', 'sum'"),
    "tnt": ("tag_quantile", 1.5, "in (0, 1)"),
    "cathode": ("flow_kind", "realnvp", "one of 'nsf', 'maf'"),
    "cathode_b": ("oversample", -1, "> 0"),
    "quak": ("max_per_sample", "lots", "an integer"),
    "ranode": ("w_init", 1.0, "in (0, 1)"),
}


def test_every_method_is_listed_here():
    assert set(MISTYPED) == set(REGISTRY)


@pytest.mark.parametrize("method", sorted(MISTYPED))
def test_an_unknown_or_mistyped_parameter_of_each_method_is_refused_before_training(tmp_path, capsys, method):
    name, value, why = MISTYPED[method]
    line = _run_error(tmp_path, capsys, {"methods": [{method: {name: value}}]})
    assert f"{method}: {name} must be {why}, got {value!r}" in line, line
    # a typo of a real parameter name is answered with that name
    typo = name[:-1] + "x" if len(name) > 3 else name + "s"
    line = _run_error(tmp_path, capsys, {"methods": [{method: {typo: 1}}]})
    assert f"{method}: unknown parameter '{typo}'; did you mean '{name}'?" in line, line


def test_good_values_are_read_as_their_types_and_recorded():
    cfg = RunConfig.from_dict(
        {
            "eventset": "es",
            "out": "r",
            "methods": [{"cwola": {"lr": "1e-3", "hidden": [8, 4], "epochs": 3.0, "folds": 3}}, "vae_qr"],
        }
    )
    p = cfg.configured("cwola")
    assert (p.lr, p.hidden, p.epochs) == (1e-3, (8, 4), 3)  # YAML 1.1 reads 1e-3 as text; 3.0 is 3
    assert type(p.epochs) is int and cfg.method_folds("cwola") == 3
    assert cfg.method_folds("vae_qr") == REGISTRY["vae_qr"].default_folds == 2  # its own default
    assert cfg.configured("vae_qr").cr_deta == (None, 2.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.lr = 1.0  # parameters are not where a fit keeps what it learned


def test_a_methods_mapping_is_read_like_the_list():
    as_list = RunConfig.from_dict({"eventset": "es", "out": "r", "methods": ["inclusive", {"cwola": {"epochs": 2}}]})
    as_map = RunConfig.from_dict({"eventset": "es", "out": "r", "methods": {"inclusive": None, "cwola": {"epochs": 2}}})
    assert as_list.methods == as_map.methods == {"inclusive": {}, "cwola": {"epochs": 2}}


def test_build_checks_ranges_item_by_item_and_cross_field_rules():
    @dataclasses.dataclass(frozen=True)
    class P:
        widths: tuple[int, ...] = param((1, 2), low=1)
        edge: float | None = param(None, low=0, high=1, high_open=True)

        def __post_init__(self):
            if self.edge is not None and len(self.widths) < 2:
                raise ValueError("edge needs two widths")

    assert build(P, {"widths": [3, 4], "edge": None}, "p") == P((3, 4), None)
    for raw, msg in [
        ({"widths": [3, 0]}, "p: widths must be ≥ 1, got [3, 0]"),
        ({"edge": 1.0}, "p: edge must be in [0, 1), got 1.0"),
        ({"edge": "nan"}, "p: edge must be a number or null, got 'nan'"),
        ({"widths": [3], "edge": 0.5}, "p: edge needs two widths"),
        ({"widths": 3}, "p: widths must be a list of integers, got 3"),
    ]:
        with pytest.raises(InputError) as exc:
            build(P, raw, "p")
        assert str(exc.value) == msg


def test_a_config_that_is_not_yaml_is_one_line_naming_the_file(tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text("eventset: x\nout: y\nmethods: [inclusive\n  - a: b\n")  # used to print 8 lines of parser trace
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}: not valid YAML ("), err


def test_the_methods_command_lists_each_methods_parameters(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    heads = [line.split()[0] for line in out.splitlines() if not line.startswith(" ")]
    assert heads == list(REGISTRY)
    assert main(["methods", "vae_qr"]) == 0
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["combine"] == ['"min"', "one of 'min', 'max', 'sum'"] and rows["folds"][0] == "null"
    assert rows["lr"] == ["0.001", "a number, > 0"]
    assert main(["methods", "cwla"]) == 2
    assert capsys.readouterr().err.strip() == "error: methods: unknown method 'cwla'; did you mean 'cwola'?"


def test_an_interrupted_command_says_truly_what_is_kept(tmp_path, capsys, monkeypatch, signal_es):
    """`run` writes its Run whole at the end: interrupted, it must not promise to resume (it used to)."""
    import anomalyscope.core.generate as generate_pkg
    import anomalyscope.core.methods.runner as runner

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_out_of_fold", interrupt)
    path = tmp_path / "run.yaml"
    path.write_text(
        yaml.safe_dump({"eventset": str(signal_es.path), "out": str(tmp_path / "r"), "methods": ["inclusive"]})
    )
    assert main(["run", "--config", str(path), "--quiet"]) == 130
    assert (
        capsys.readouterr().err.strip()
        == "interrupted: nothing was written (outputs are written whole or not at all); re-running starts over"
    )
    assert not (tmp_path / "r").exists() and not list(tmp_path.glob(".r*"))
    monkeypatch.setattr(generate_pkg, "generate", interrupt)
    assert main(["generate", "--process", "qcd", "--events", "5", "--out", str(tmp_path / "g")]) == 130
    assert capsys.readouterr().err.strip() == "interrupted: finished chunks are kept; re-run the same command to resume"


def test_log_flags_and_the_provenance_a_run_records(tmp_path, capsys, signal_es):
    """-v logs what is done, --log-file keeps it with times; the manifest says which versions and commit made it."""
    import json

    from anomalyscope.core.provenance import provenance

    path = tmp_path / "run.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "eventset": str(signal_es.path),
                "out": str(tmp_path / "r"),
                "methods": ["inclusive"],
                "search": {"windows": "sliding", "min_window_events": 5, "toys": 10},
            }
        )  # fmt: skip
    )
    assert main(["-v", "--log-file", str(tmp_path / "log.txt"), "run", "--config", str(path), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "I anomalyscope.core.methods.runner: inclusive: 5 folds trained in" in err
    logged = (tmp_path / "log.txt").read_text()
    assert "DEBUG anomalyscope.core.methods.runner: run configuration:" in logged  # the file has the details
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["provenance"]["versions"]["torch"] == provenance()["versions"]["torch"]
    assert "git_commit" in manifest["provenance"]
    assert signal_es.schema["provenance"]["versions"]["pythia8mc"] == provenance()["versions"]["pythia8mc"]
    assert main(["-q", "info", str(tmp_path / "r")]) == 0 and capsys.readouterr().err == ""
    assert main(["--log-file", str(tmp_path / "no" / "such" / "dir" / "x.log"), "methods"]) == 2
    assert "--log-file" in capsys.readouterr().err
    import logging

    assert not logging.getLogger("anomalyscope").handlers  # a command's handlers end with it


def test_each_configuration_names_its_field_value_and_place(tmp_path):
    """The four configurations a user writes — a Run (with its search and methods), an injection scan, the
    benchmark's options, a NanoAOD branch map — are all built by params.build, and a bad value raises a
    FieldError whose attributes say which field, which value and where, so a view needs no text parsing."""
    from anomalyscope.core.data.nanoaod import BranchMap
    from anomalyscope.core.errors import FieldError
    from anomalyscope.core.workflows.benchmark import check_options
    from anomalyscope.core.workflows.injection import load_scan_config

    base = {"eventset": "es", "out": "run", "methods": ["inclusive"]}
    scan = {"background": "b", "signal": "s", "run": {"methods": ["inclusive"]}, "injections": [0, 100],
            "efficiency": 0.1, "mass": 3500.0, "out": "scan"}  # fmt: skip
    (tmp_path / "scan.yaml").write_text(yaml.safe_dump({**scan, "draws": 0}))
    (tmp_path / "scan-missing.yaml").write_text(yaml.safe_dump({k: v for k, v in scan.items() if k != "mass"}))
    (tmp_path / "map.yaml").write_text(yaml.safe_dump({"branches": {"pt": "FatJet_pt", "ptt": "x"}}))
    (tmp_path / "map-null.yaml").write_text(yaml.safe_dump({"branches": {"eta": None}}))
    cases = [
        (lambda: RunConfig.from_dict({**base, "folds": "five"}), "run config", "folds", "five"),
        (lambda: RunConfig.from_dict({**base, "search": {"fit_min": -3.0}}), "run config", "search.fit_min", -3.0),
        (lambda: RunConfig.from_dict({**base, "methods": [{"cwola": {"lr": "fast"}}]}), "run config",
         "methods.cwola.lr", "fast"),
        (lambda: RunConfig.from_dict({"eventset": "es", "methods": ["inclusive"]}), "run config", "out",
         FieldError.MISSING),
        (lambda: load_scan_config(tmp_path / "scan.yaml"), str(tmp_path / "scan.yaml"), "draws", 0),
        (lambda: load_scan_config(tmp_path / "scan-missing.yaml"), str(tmp_path / "scan-missing.yaml"), "mass",
         FieldError.MISSING),
        (lambda: check_options(efficiency=1.5), "cms-injection benchmark options", "efficiency", 1.5),
        (lambda: check_options(methods=["cwola"]), "cms-injection benchmark options", "methods", ["cwola"]),
        (lambda: BranchMap.from_file(tmp_path / "map.yaml"), tmp_path / "map.yaml", "branches.ptt", "x"),
        (lambda: BranchMap.from_file(tmp_path / "map-null.yaml"), tmp_path / "map-null.yaml", "branches.eta", None),
    ]  # fmt: skip
    for make, path, field, value in cases:
        with pytest.raises(FieldError) as err:
            make()
        e = err.value
        assert (str(e.path), e.field, e.value) == (str(path), field, value), (str(e), e.path, e.field, e.value)
        assert isinstance(e, InputError) and str(path) in str(e) and field.split(".")[-1] in str(e)
