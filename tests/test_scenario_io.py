"""Tests of sim.scenario_io: reading, extends, overrides, validation messages, hostile YAML."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from sim.errors import InputError, Problem, ScenarioError
from sim.schema import Group, Scenario, Triggers
from sim.scenario_io import (
    apply_overrides,
    load_scenario,
    load_scenario_with_source,
    resolve_path,
    scenario_hash,
    scenario_to_yaml,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(ref, overrides=()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(ref, overrides)
    return info.value


# --------------------------------------------------------------------------- errors module


def test_problem_renders_file_line_path_message_allowed():
    p = Problem("a.yaml", 7, "us.days", "too big", ">= 1 and <= 10")
    assert str(p) == "a.yaml:7: us.days: too big (allowed: >= 1 and <= 10)"
    assert str(Problem(None, None, "", "plain")) == "plain"
    assert str(Problem("--set", None, "x.y", "bad")) == "--set: x.y: bad"


def test_scenario_error_single_and_pickle():
    err = ScenarioError.single("no such thing", file="f.yaml", line=3, path="a.b", allowed="x, y")
    assert str(err) == "f.yaml:3: a.b: no such thing (allowed: x, y)"
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and len(again.problems) == 1
    assert isinstance(InputError.single("bad option"), ScenarioError)


# --------------------------------------------------------------------------- schema errors


def test_unknown_key_names_file_line_path_and_suggestion(tmp_path):
    path = write(tmp_path, "typo.yaml", "name: t\nus:\n  doctrine:\n    proportionate:\n      delai_days: 3\n")
    text = str(error_of(path))
    assert "typo.yaml:5:" in text
    assert "us.doctrine.proportionate.delai_days" in text
    assert "did you mean 'delay_days'?" in text
    assert "cooldown_days" in text  # the allowed keys at that level are listed


def test_wrong_type(tmp_path):
    path = write(tmp_path, "t.yaml", "name: t\ndays: lots\n")
    err = error_of(path)
    (p,) = err.problems
    assert (p.line, p.path) == (2, "days")
    assert "'lots'" in p.message and p.allowed == "a whole number"


def test_out_of_bounds_reports_bounds_from_schema(tmp_path):
    path = write(tmp_path, "b.yaml", "name: b\nus:\n  doctrine:\n    triggers:\n      respond_probability: 1.5\n")
    (p,) = error_of(path).problems
    meta = Triggers.model_fields["respond_probability"].metadata
    lo = next(m.ge for m in meta if getattr(m, "ge", None) is not None)
    hi = next(m.le for m in meta if getattr(m, "le", None) is not None)
    assert p.path == "us.doctrine.triggers.respond_probability" and p.line == 5
    assert p.allowed == f">= {lo:g} and <= {hi:g}"
    assert "1.5" in p.message


def test_bad_literal_lists_choices(tmp_path):
    path = write(tmp_path, "l.yaml", "name: l\nus:\n  doctrine:\n    direct_response:\n      target: moon\n")
    (p,) = error_of(path).problems
    assert p.path == "us.doctrine.direct_response.target"
    assert "'moon'" in p.message
    assert p.allowed == "none, irgc_facilities, inside_iran"


def test_all_problems_are_reported_at_once(tmp_path):
    path = write(tmp_path, "many.yaml", "name: m\ndays: 0\nladder:\n  memory_dayz: 3\n"
                                        "militia:\n  groups:\n    - {id: kh, name: K, alignment: 2}\n")
    err = error_of(path)
    paths = {p.path for p in err.problems}
    assert paths == {"days", "ladder.memory_dayz", "militia.groups[0].alignment"}
    assert len(str(err).splitlines()) == 3
    assert [p.line for p in err.problems] == sorted(p.line for p in err.problems)


def test_missing_required_field_points_at_list_item(tmp_path):
    path = write(tmp_path, "g.yaml", "name: g\nmilitia:\n  groups:\n    - id: kh\n      name: K\n    - id: x2\n")
    (p,) = error_of(path).problems
    assert p.path == "militia.groups[1].name" and p.line == 6 and "missing" in p.message


# --------------------------------------------------------------------------- extends


def test_extends_deep_merges_child_onto_parent(tmp_path):
    write(tmp_path, "parent.yaml", "name: parent\ndays: 90\nus:\n  doctrine:\n    proportionate:\n"
                                   "      delay_days: 4\n      cooldown_days: 9\n")
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nname: child\nus:\n  doctrine:\n"
                                          "    proportionate:\n      delay_days: 2\n")
    s, source = load_scenario_with_source(child)
    assert source == child.resolve()
    assert s.name == "child" and s.days == 90
    assert s.us.doctrine.proportionate.delay_days == 2
    assert s.us.doctrine.proportionate.cooldown_days == 9
    assert s.extends == "parent.yaml"


def test_extends_chain_and_error_line_in_parent(tmp_path):
    write(tmp_path, "grand.yaml", "name: g\ndays: 5000\n")
    write(tmp_path, "mid.yaml", "extends: grand\nname: m\n")
    child = write(tmp_path, "kid.yaml", "extends: mid.yaml\nname: k\n")
    (p,) = error_of(child).problems
    assert p.file.endswith("grand.yaml") and p.line == 2 and p.path == "days"


def test_extends_missing_parent_names_file_and_line(tmp_path):
    child = write(tmp_path, "orphan.yaml", "name: o\nextends: nowhere.yaml\n")
    (p,) = error_of(child).problems
    assert p.file.endswith("orphan.yaml") and p.line == 2 and p.path == "extends"
    assert "nowhere.yaml" in p.message


def test_extends_cycle_is_an_error(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    (p,) = error_of(a).problems
    assert p.file.endswith("b.yaml") and p.line == 1
    assert "loop" in p.message and "a.yaml" in p.message


def test_resolve_path_finds_names_in_scenarios_folder(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    write(folder, "calm.yaml", "name: calm\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_path("calm") == (folder / "calm.yaml").resolve()
    assert resolve_path("calm.yaml") == (folder / "calm.yaml").resolve()
    with pytest.raises(ScenarioError) as info:
        resolve_path("clam")
    assert "'clam'" in str(info.value) and "calm" in info.value.problems[0].allowed


# --------------------------------------------------------------------------- overrides


def test_override_by_id_and_by_index():
    base = Scenario()
    kh, second, erbil = base.militia.groups[0], base.militia.groups[1], base.bases[0]
    assert (kh.id, erbil.id) == ("kh", "erbil")
    # new values derived from the defaults, so they always differ from them
    rate, align, air = kh.base_rate / 2 + 0.01, second.alignment / 2 + 0.01, erbil.air_defence / 2 + 0.01
    delay = (base.us.doctrine.proportionate.delay_days + 1) % 31
    s = load_scenario({"name": "o"}, [f"militia.groups.kh.base_rate={rate}", f"militia.groups[1].alignment={align}",
                                      f"bases.erbil.air_defence={air}", f"us.doctrine.proportionate.delay_days={delay}",
                                      "us.doctrine.scope.inside_iran=true"])
    assert s.militia.groups[0].base_rate == rate != kh.base_rate
    assert s.militia.groups[1].alignment == align != second.alignment
    assert s.bases[0].air_defence == air != erbil.air_defence
    assert s.us.doctrine.proportionate.delay_days == delay
    assert s.us.doctrine.scope.inside_iran is True
    assert s.militia.groups[2] == base.militia.groups[2]  # untouched items stay as they were


def test_apply_overrides_on_plain_data_fills_defaults():
    out = apply_overrides({"name": "x"}, ["militia.groups.nujaba.reach=[iraq]", "name=what: if"])
    assert out["militia"]["groups"][1]["reach"] == ["iraq"]
    assert out["name"] == "what: if"


def test_override_typo_suggests():
    err = error_of({"name": "x"}, ["us.doctrine.proportionate.delai_days=3"])
    (p,) = err.problems
    assert p.file == "--set" and "did you mean 'delay_days'?" in p.message
    (q,) = error_of({"name": "x"}, ["us.zzz=1"]).problems
    assert "doctrine" in q.allowed  # no close match: the allowed keys are listed


def test_override_unknown_id_and_missing_equals():
    err = error_of({"name": "x"}, ["militia.groups.nope.alignment=0.1", "days"])
    assert len(err.problems) == 2
    assert "kh" in err.problems[0].allowed
    assert "PATH=VALUE" in err.problems[1].message


def test_override_out_of_bounds_is_reported_against_set():
    (p,) = error_of({"name": "x"}, ["bases.erbil.air_defence=7"]).problems
    assert (p.file, p.line, p.path) == ("--set", None, "bases[0].air_defence")
    assert p.allowed == ">= 0 and <= 1"


# --------------------------------------------------------------------------- hostile YAML


def test_python_tag_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "ran"
    path = write(tmp_path, "evil.yaml", f'name: e\nquestion: !!python/object/apply:os.system ["touch {marker}"]\n')
    (p,) = error_of(path).problems
    assert p.line == 2 and "python/object/apply" in p.message and "not allowed" in p.message
    assert not marker.exists()


def test_billion_laughs_is_refused_quickly(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    path = write(tmp_path, "laughs.yaml", "\n".join(lines) + "\n")
    err = error_of(path)
    assert "laughs.yaml" in str(err) and "alias" in str(err)


def test_deep_nesting_is_refused(tmp_path):
    path = write(tmp_path, "deep.yaml", "name: d\nquestion: " + "[" * 60 + "]" * 60 + "\n")
    (p,) = error_of(path).problems
    assert p.line == 2 and "deeper than 50" in p.message


def test_large_file_is_refused(tmp_path):
    path = write(tmp_path, "big.yaml", "name: big\n# " + "x" * (1024 * 1024) + "\n")
    (p,) = error_of(path).problems
    assert p.file.endswith("big.yaml") and "KiB" in p.message


def test_duplicate_key_names_both_lines(tmp_path):
    path = write(tmp_path, "dup.yaml", "name: a\ndays: 3\nname: b\n")
    (p,) = error_of(path).problems
    assert p.line == 3 and p.path == "name" and "line 1" in p.message and "line 3" in p.message


def test_top_level_must_be_a_mapping(tmp_path):
    (p,) = error_of(write(tmp_path, "list.yaml", "- a\n- b\n")).problems
    assert p.file.endswith("list.yaml") and "mapping" in p.message


def test_non_utf8_and_syntax_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"name: x\nquestion: caf\xe9\n")
    (p,) = error_of(bad).problems
    assert p.line == 2 and "UTF-8" in p.message
    (q,) = error_of(write(tmp_path, "syn.yaml", "name: x\ndays: [1, 2\n")).problems
    assert q.file.endswith("syn.yaml") and q.line is not None and "YAML" in q.message


def test_alias_loop_is_refused(tmp_path):
    (p,) = error_of(write(tmp_path, "loop.yaml", "name: x\nq: &a [*a]\n")).problems
    assert "loop" in p.message


# --------------------------------------------------------------------------- defaults, round trip, hash


def test_partial_block_keeps_default_scenario_values(tmp_path):
    path = write(tmp_path, "w.yaml", "name: w\nmilitia:\n  weapons:\n    uav:\n      preference: 2.0\n")
    s = load_scenario(path)
    assert s.militia.weapons.uav.preference == 2.0
    assert s.militia.weapons.uav.interceptable == Scenario().militia.weapons.uav.interceptable


def test_round_trip(tmp_path):
    path = write(tmp_path, "r.yaml", "name: r\ndays: 120\nshocks:\n  - {date: 2024-01-28, kind: attack, "
                                     "group: kh, base: tower_22, killed: 3}\n")
    s = load_scenario(path)
    text = scenario_to_yaml(s)
    assert "extends" not in text
    assert load_scenario(text) == s
    out = write(tmp_path, "out.yaml", text)
    assert load_scenario(out) == s
    assert scenario_hash(load_scenario(out)) == scenario_hash(s)


def test_hash_changes_with_one_value():
    s = load_scenario({"name": "h"})
    kss = Scenario().militia.groups[2]
    t = load_scenario({"name": "h"}, [f"militia.groups.{kss.id}.alignment={kss.alignment / 2 + 0.01}"])
    assert len(scenario_hash(s)) == 16
    assert scenario_hash(s) != scenario_hash(t)
    assert scenario_hash(s) == scenario_hash(load_scenario({"name": "h"}))


def test_whole_scenario_check_points_at_the_named_place(tmp_path):
    path = write(tmp_path, "s.yaml", "name: s\nshocks:\n  - {kind: attack}\n  - {kind: attack, group: zz}\n")
    (p,) = error_of(path).problems
    assert (p.line, p.path) == (4, "shocks[1].group") and "kh" in p.allowed


def test_yaml_merge_keys_work(tmp_path):
    path = write(tmp_path, "m.yaml", "name: m\nmilitia:\n  groups:\n    - <<: &g {id: kh, name: K}\n"
                                     "      alignment: 0.2\n    - <<: *g\n      id: k2\n")
    groups = load_scenario(path).militia.groups
    default_alignment = Group.model_fields["alignment"].default
    assert [(g.id, g.name, g.alignment) for g in groups] == [("kh", "K", 0.2), ("k2", "K", default_alignment)]


def test_too_many_values_is_refused_without_aliases(tmp_path):
    path = write(tmp_path, "flat.yaml", "name: f\nquestion: [" + "0," * 110_000 + "0]\n")
    (p,) = error_of(path).problems
    assert "more than" in p.message
