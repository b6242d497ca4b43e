"""``remote-check plan`` and ``plan-check`` end to end on files, bad input included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from remote_check.cli import main
from tests.planning.builders import add_project, base


def _run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), *args])


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _instance(tmp_path: Path) -> Path:
    data = base(suppliers=[{"id": "S1", "teams": 1}, {"id": "S2", "teams": 1}])
    for i in range(5):
        add_project(data, f"P{i}", supplier=f"S{1 + i % 2}")
    add_project(data, "P9", panel=4)  # three experts only
    return _write(tmp_path / "instance.json", data)


def test_plan_then_plan_check(tmp_path: Path) -> None:
    instance, out = _instance(tmp_path), tmp_path / "plan.json"
    result = _run(tmp_path, "plan", str(instance), "--out", str(out), "--seconds", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "已安排 / placed: 5",
        "未安排 / unplaced: 1",
        "工期（工作日） / makespan (working days): 2",
        "工期下界 / lower bound: 2 (supplier S1)",
        "比值 / ratio: 1.000",
    ]
    assert lines[5].startswith("用时 / time: ")
    assert lines[6].startswith("  P9: 该市仅 3 名")
    written = json.loads(out.read_text(encoding="utf-8"))
    assert [u["project"] for u in written["unscheduled"]] == ["P9"]
    assert {"project", "start", "end", "experts", "city", "supplier"} <= set(written["sessions"][0])
    assert written["sessions"][0]["start"] == "2020-04-07T09:00"

    checked = _run(tmp_path, "plan-check", str(instance), str(out))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines()[-1] == "所有规则均满足 / every rule holds"
    assert "比值 / ratio: 1.000" in checked.stdout


def test_plan_check_lists_each_violation(tmp_path: Path) -> None:
    instance, out = _instance(tmp_path), tmp_path / "plan.json"
    assert _run(tmp_path, "plan", str(instance), "--out", str(out)).exit_code == 0
    plan = json.loads(out.read_text(encoding="utf-8"))
    plan["sessions"][1]["start"] = plan["sessions"][0]["start"]  # S1 and S2 at once is fine...
    plan["sessions"][1]["experts"] = plan["sessions"][0]["experts"]  # ...the same expert is not
    plan["sessions"][2]["start"] = "2020-04-07T12:30"
    result = _run(tmp_path, "plan-check", str(instance), str(_write(out, plan)))
    assert result.exit_code == 1
    violations = [line for line in result.stdout.splitlines() if line.startswith("违规 / violation: ")]
    assert len(violations) >= 2
    assert any("checks at once" in v for v in violations)
    assert any("does not lie inside one working period" in v for v in violations)
    assert "violations" in result.stdout.splitlines()[-1]


def test_bad_files_name_file_path_and_field(tmp_path: Path) -> None:
    data = base()
    add_project(data, "P1", supplier="S999")
    bad = _write(tmp_path / "bad.json", data)
    result = _run(tmp_path, "plan", str(bad), "--out", str(tmp_path / "p.json"))
    assert result.exit_code == 2
    assert f'{bad}: projects[0].supplier: unknown supplier "S999"' in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "p.json").exists()

    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = _run(tmp_path, "plan-check", str(_instance(tmp_path)), str(broken))
    assert result.exit_code == 2
    assert f"{broken}: not readable JSON" in result.stderr

    plan = _write(tmp_path / "plan.json", {"sessions": [{"project": "P1", "start": "soon", "experts": "E1"}]})
    result = _run(tmp_path, "plan-check", str(_instance(tmp_path)), str(plan))
    assert result.exit_code == 2
    assert f"{plan}: sessions[0].start: expected an ISO date-time" in result.stderr
    assert f"{plan}: sessions[0].experts: expected a list of expert ids" in result.stderr

    result = _run(tmp_path, "plan", str(tmp_path / "absent.json"), "--out", str(tmp_path / "p.json"))
    assert result.exit_code == 2
    assert "absent.json: cannot be read: No such file or directory" in result.stderr
    assert "Traceback" not in result.output
