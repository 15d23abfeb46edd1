"""The shipped hub directory validates, and each kind of broken edit is named by file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import COUNTRIES
from bot.referrals import (
    DEFAULT_HUBS_DIR,
    SERVICES,
    DirectoryError,
    Hub,
    load_directory,
    validate_directory,
)


@pytest.fixture
def hubs(tmp_path: Path) -> Path:
    """A copy of the shipped directory at tmp_path/referrals/hubs, to break."""
    target = tmp_path / "referrals" / "hubs"
    shutil.copytree(DEFAULT_HUBS_DIR, target)
    return target


def errors(path: Path) -> list[str]:
    return [str(p) for p in validate_directory(path) if p.severity == "error"]


def line_of(path: Path, text: str) -> int:
    """1-based line of the first line containing `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def replace(path: Path, old: str, new: str, count: int = 1) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, old
    path.write_text(content.replace(old, new, count), encoding="utf-8")


def test_shipped_directory_has_no_errors() -> None:
    assert errors(DEFAULT_HUBS_DIR) == []


def test_shipped_directory_covers_every_country_with_one_default() -> None:
    directory = load_directory()
    assert set(directory.countries) == set(COUNTRIES)
    for country in COUNTRIES:
        hubs = directory.hubs_for(country)
        assert 2 <= len(hubs) <= 5, country
        assert sum(h.default for h in hubs) == 1
        assert directory.default_hub(country) in hubs
        for hub in hubs:
            assert hub.id.startswith(country.lower() + "-")
            assert set(hub.services) <= set(SERVICES)
            assert hub.coordinates is not None


def test_sample_entries_are_warnings_and_clearly_fictitious() -> None:
    directory = load_directory()
    problems = validate_directory()
    samples = [h for h in directory.hubs if h.sample]
    warned = {(p.file, p.line) for p in problems if p.severity == "warning" and "sample" in p.message}
    assert len(warned) == len(samples) > 0
    for hub in samples:
        assert "(sample)" in hub.phone and "sample" in hub.address.lower() and "(sample)" in hub.name


def test_hubs_for_filters_by_service_and_country() -> None:
    directory = load_directory()
    assert all(h.country == "CR" for h in directory.hubs_for("cr"))
    assert all("shelter" in h.services for h in directory.hubs_for("CR", "shelter"))
    assert directory.hubs_for("US") == []
    assert directory.default_hub("US") is None
    assert directory.get("cr-san-jose") == directory.default_hub("CR")


def test_hub_is_frozen() -> None:
    hub = load_directory().hubs[0]
    assert isinstance(hub, Hub)
    with pytest.raises(AttributeError):
        hub.city = "elsewhere"  # type: ignore[misc]


def test_load_raises_on_errors(hubs: Path) -> None:
    replace(hubs / "CR.yml", "services: [regularization, documents", "services: [regularisation, documents")
    with pytest.raises(DirectoryError) as raised:
        load_directory(hubs)
    assert "unknown service 'regularisation'" in str(raised.value)


HERE = "  # HERE"
"""Appended to the line where the error must be reported (a YAML comment, so it changes nothing else)."""
SAN_JOSE = "- id: cr-san-jose"
UPALA_SERVICES = "[regularization, documents, health, psychosocial]"
HOURS = 'mon-fri: "08:00-16:00"'


@pytest.mark.parametrize(
    ("file", "edits", "message"),
    [
        (
            "CR.yml",
            [("  lat: 9.9281\n", "  lat: [9.9281\n"), ("  lon: -84.0907", "  lon: -84.0907" + HERE)],
            "cannot read this YAML",
        ),
        (
            "CR.yml",
            [(UPALA_SERVICES, "\n    - regularization\n    - helth" + HERE + "\n    - documents")],
            "unknown service 'helth'",
        ),
        ("CR.yml", [("languages: [es]\n", "languages: [es, pt]" + HERE + "\n")], "unknown language 'pt'"),
        ("MX.yml", [("shelter, return]", "shelter, return, housing]" + HERE)], "unknown service 'housing'"),
        (
            "CR.yml",
            [
                (
                    "  hours:\n    timezone: America/Costa_Rica\n    " + HOURS + "\n  languages: [es, en]",
                    "  languages: [es, en]",
                ),
                (SAN_JOSE, SAN_JOSE + HERE),
            ],
            "has no 'hours'",
        ),
        ("CR.yml", [(HOURS, 'mon-fri: "8am-4pm"' + HERE)], "bad hours '8am-4pm'"),
        ("CR.yml", [(HOURS, 'mon-fri: "16:00-08:00"' + HERE)], "bad hours '16:00-08:00'"),
        ("CR.yml", [(HOURS, "mon-fri: 8:00" + HERE)], "bad hours 480"),
        ("CR.yml", [(HOURS, 'lun-vie: "08:00-16:00"' + HERE)], "bad day 'lun-vie'"),
        (
            "CR.yml",
            [("timezone: America/Costa_Rica", "timezone: America/San_Jose" + HERE)],
            "valid 'timezone'",
        ),
        (
            "CR.yml",
            [('  country: CR\n  city: "Upala"', "  country: NI" + HERE + '\n  city: "Upala"')],
            "country 'NI' differs from the file's country CR",
        ),
        ("CR.yml", [("- id: cr-upala", "- id: cr-san-jose" + HERE)], "duplicate id 'cr-san-jose'"),
        (
            "CR.yml",
            [
                (
                    "  sample: true\n\n- id: cr-los-chiles",
                    "  default: true" + HERE + "\n  sample: true\n\n- id: cr-los-chiles",
                )
            ],
            "more than one default hub for CR",
        ),
        (
            "CR.yml",
            [("  default: true\n", ""), ("# Information Hubs", "# Information Hubs" + HERE)],
            "no hub of CR is marked 'default: true'",
        ),
        (
            "CR.yml",
            [('  phone: "+000 0000 0000 (sample)"\n', ""), (SAN_JOSE, SAN_JOSE + HERE)],
            "has no 'phone'",
        ),
        ("CR.yml", [("  lat: 9.9281\n", "  lat: north" + HERE + "\n")], "'lat' and 'lon' must both be"),
        ("CR.yml", [("- id: cr-upala", "- id: Upala" + HERE)], "id 'Upala' must look like 'cr-city-name'"),
        (
            "CR.yml",
            [("  lat: 9.9281\n", "  lat: 9.9281\n  webhook_url: ftp://hub" + HERE + "\n")],
            "not an http(s) URL",
        ),
    ],
)
def test_broken_edit_is_named_by_file_and_line(
    hubs: Path, file: str, edits: list[tuple[str, str]], message: str
) -> None:
    path = hubs / file
    for old, new in edits:
        replace(path, old, new)
    expected = f"referrals/hubs/{file}:{line_of(path, HERE)}: error: "
    found = [e for e in errors(hubs) if message in e]
    assert found, errors(hubs)
    assert any(e.startswith(expected) for e in found), (expected, found)


def test_duplicate_id_across_files(hubs: Path) -> None:
    """The same id in two files is reported in the later file, pointing at the first use."""
    replace(hubs / "SV.yml", "id: sv-san-miguel", "id: cr-san-jose")
    first = line_of(hubs / "CR.yml", "id: cr-san-jose")
    second = line_of(hubs / "SV.yml", "id: cr-san-jose")
    dupes = [e for e in errors(hubs) if "duplicate id 'cr-san-jose'" in e]
    assert dupes == [
        f"referrals/hubs/SV.yml:{second}: error: duplicate id 'cr-san-jose' "
        f"(first used at referrals/hubs/CR.yml:{first})"
    ]


def test_field_written_twice(hubs: Path) -> None:
    replace(
        hubs / "CR.yml",
        "  sample: true\n\n- id: cr-upala",
        "  default: false\n  sample: true\n\n- id: cr-upala",
    )
    line = line_of(hubs / "CR.yml", "default: false")
    assert f"referrals/hubs/CR.yml:{line}: error: 'default' is written twice in this hub" in errors(hubs)


def test_country_without_hub_is_an_error(hubs: Path) -> None:
    (hubs / "GD.yml").unlink()
    assert "referrals/hubs/GD.yml:0: error: programme country GD has no hub" in errors(hubs)


def test_empty_country_file(hubs: Path) -> None:
    (hubs / "GD.yml").write_text("# nothing yet\n")
    found = errors(hubs)
    assert "referrals/hubs/GD.yml:1: error: the file has no hubs" in found
    assert "referrals/hubs/GD.yml:0: error: programme country GD has no hub" in found


def test_file_for_unknown_country(hubs: Path) -> None:
    shutil.copy(hubs / "CR.yml", hubs / "NI.yml")
    assert any(e.startswith("referrals/hubs/NI.yml:1: error: file name must be") for e in errors(hubs))


def test_file_that_is_not_a_list(hubs: Path) -> None:
    (hubs / "GD.yml").write_text("id: gd-st-georges\nname: x\n")
    assert any(e.startswith("referrals/hubs/GD.yml:1: error: the file must be a list") for e in errors(hubs))


def test_unknown_field_is_a_warning(hubs: Path) -> None:
    replace(hubs / "CR.yml", "  lat: 9.9281\n", "  lat: 9.9281\n  emial: x@example.org\n")
    line = line_of(hubs / "CR.yml", "emial")
    warnings = [str(p) for p in validate_directory(hubs) if p.severity == "warning"]
    assert any(
        w.startswith(f"referrals/hubs/CR.yml:{line}: warning: unknown field 'emial'") for w in warnings
    )
    assert errors(hubs) == []


def test_real_entry_is_not_warned(hubs: Path) -> None:
    replace(hubs / "GD.yml", "  sample: true\n", "")
    problems = validate_directory(hubs)
    assert not any(p.file.endswith("GD.yml") and p.line <= 20 and "sample" in p.message for p in problems)
    assert errors(hubs) == []


def test_several_ranges_and_day_lists_are_valid(hubs: Path) -> None:
    replace(
        hubs / "GD.yml",
        'mon-fri: "08:00-16:00"',
        'mon-thu: "08:00-12:00, 13:00-16:00"\n    fri: "08:00-12:00"\n    sat,sun: closed',
    )
    assert errors(hubs) == []
    hub = load_directory(hubs).get("gd-st-georges")
    assert hub is not None
    assert hub.hours == (
        ("mon-thu", "08:00-12:00, 13:00-16:00"),
        ("fri", "08:00-12:00"),
        ("sat,sun", "closed"),
    )


def test_day_listed_twice(hubs: Path) -> None:
    replace(hubs / "GD.yml", 'mon-fri: "08:00-16:00"', 'mon-fri: "08:00-16:00"\n    fri: "08:00-12:00"')
    line = line_of(hubs / "GD.yml", 'fri: "08:00-12:00"')
    assert f"referrals/hubs/GD.yml:{line}: error: hours list fri twice" in errors(hubs)


def test_readme_example_is_valid(hubs: Path) -> None:
    """The worked example in referrals/README.md must itself pass the checks (only the sample warning)."""
    readme = (DEFAULT_HUBS_DIR.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = hubs / "CR.yml"
    content = path.read_text(encoding="utf-8")
    start = content.index("- id: cr-upala")
    end = content.index("- id: cr-los-chiles")
    path.write_text(content[:start] + example + "\n" + content[end:], encoding="utf-8")
    assert errors(hubs) == []
    hub = load_directory(hubs).get("cr-upala")
    assert hub is not None and hub.sample and hub.webhook_url == "https://hub.example.org/referrals"
    assert hub.hours == (("mon-fri", "08:00-12:00, 13:00-16:00"), ("sat", "08:00-12:00"))
