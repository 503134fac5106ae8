"""State policy packs: load a state's law as validated data, with the district's override on top.

An override may tighten a rule, add one or reword it; one that is looser than the statute is still
applied (the district decides) but reported in ``Policy.warnings`` so nobody loosens the law unseen.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.facts import GRADES
from truancy.mappings.policy_schema import CaseFile, OverrideFile, Parameter, PartialDays, PolicyPack, Rule
from truancy.mappings.yaml_source import MappingFileError, YamlDocument, parse_yaml, validation_error

__all__ = ["MappingFileError", "Policy", "available_policies", "load_policy"]

POLICY_DIR = Path(__file__).resolve().parent / "policies"
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, eq=False)
class Policy:
    """A validated pack, ready for the engine; ``rule_order`` puts every rule after those it needs."""

    pack: PolicyPack
    digest: str
    rule_order: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=())
    parameters: Mapping[str, int] = field(default_factory=dict)
    """District parameters in force (the override's value, else the pack's sourced default)."""

    @property
    def id(self) -> str:
        return self.pack.policy

    @property
    def version(self) -> str:
        return self.pack.version

    @property
    def rules(self) -> Mapping[str, Rule]:
        return self.pack.rules

    @property
    def case(self) -> CasePolicy | None:
        return self.pack.case


def available_policies() -> tuple[str, ...]:
    """The built-in packs, by the code ``load_policy`` accepts."""
    return tuple(sorted(path.stem.upper() for path in POLICY_DIR.glob("*.yaml")))


def load_policy(policy: str | Path, *, overrides: Path | None = None) -> Policy:
    """A built-in pack by state code (case-insensitive, e.g. ``"CA"``) or a pack file by path."""
    path = policy if isinstance(policy, Path) else POLICY_DIR / f"{policy.lower()}.yaml"
    if not isinstance(policy, Path) and not path.is_file():
        known = ", ".join(available_policies())
        raise MappingFileError(str(policy), None, "", f"no built-in policy pack; known packs: {known}")
    base_text = _read(path)
    base = parse_yaml(base_text, path.name)
    digest = hashlib.sha256(base_text.encode("utf-8"))
    case_path = POLICY_DIR / "cases" / path.name
    if not isinstance(policy, Path) and case_path.is_file():
        case_text = _read(case_path)
        _add_case_section(base, parse_yaml(case_text, f"cases/{case_path.name}"))
        digest.update(case_text.encode("utf-8"))
    base_pack = _validate_pack(base.data, base, None)
    if overrides is None:
        parameters = _parameters(base_pack, {}, base, None)
        order = _rule_order(base_pack, base)
        return Policy(base_pack, digest.hexdigest(), order, (), (path.name,), parameters)
    override_text = _read(overrides)
    override = parse_yaml(override_text, overrides.name)
    override_file = _validate_override(override, base_pack)
    merged = _merge(base.data, override.data)
    pack = _validate_pack(merged, base, override)
    pack = pack.model_copy(update={"version": f"{pack.version}+{override.source}"})
    digest.update(override_text.encode("utf-8"))
    warnings = tuple(_looser(base_pack, pack, override_file, override))
    parameters = _parameters(pack, override_file.parameters, base, override)
    sources = (path.name, override.source)
    return Policy(pack, digest.hexdigest(), _rule_order(pack, base), warnings, sources, parameters)


def _parameters(
    pack: PolicyPack, given: Mapping[str, int], base: YamlDocument, override: YamlDocument | None
) -> dict[str, int]:
    """The parameter values in force; a rule's parameter with no value is an error, never a guess."""
    specs: dict[str, Parameter] = dict(pack.parameters.items())
    for name, value in given.items():
        assert override is not None
        declared = specs.get(name)
        if declared is None:
            known = ", ".join(sorted(pack.parameters)) or "none"
            problem = f"{pack.policy} has no parameter {name!r}; its parameters: {known}"
            raise override.error(("parameters", name), problem)
        out_of_range = declared.problem(value)
        if out_of_range is not None:
            raise override.error(("parameters", name), f"{value} {out_of_range}")
    values = {name: given.get(name, spec.default) for name, spec in pack.parameters.items()}
    resolved: dict[str, int] = {name: value for name, value in values.items() if value is not None}
    for rule_id, rule in pack.rules.items():
        missing = sorted(name for name in rule.parameters_needed if name not in resolved)
        if missing and rule.enabled:
            name = missing[0]
            problem = (
                f"rule {rule_id!r} needs {name} ({specs[name].description}) and the law "
                f"leaves it to the district: set `parameters: {{{name}: ...}}` in the district "
                f"override file (with version: 1 and policy: {pack.policy})"
            )
            raise (override or base).error(("parameters", name), problem)
    return resolved


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise MappingFileError(str(path), None, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise MappingFileError(path.name, None, "", f"not UTF-8 text (byte {exc.start})") from None


def _add_case_section(pack: YamlDocument, case: YamlDocument) -> None:
    """Lay a built-in pack's case section (its own file, owned with the case lifecycle) into it."""
    try:
        parsed = CaseFile.model_validate(case.data)
    except ValidationError as exc:
        raise validation_error(case, exc) from None
    rules = pack.data.get("rules") if isinstance(pack.data, dict) else None
    for index, tier in enumerate(parsed.case.tiers):
        if isinstance(rules, dict) and tier.enter_when.designation not in rules:
            path = ("case", "tiers", index, "enter_when", "designation")
            raise case.error(path, f"{tier.enter_when.designation!r} is not a rule of {pack.source}")
    if isinstance(pack.data, dict) and "case" not in pack.data:
        pack.data["case"] = case.data["case"]


def _validate_pack(data: Any, base: YamlDocument, override: YamlDocument | None) -> PolicyPack:
    if not isinstance(data, dict):
        raise MappingFileError(base.source, 1, "", "expected a mapping with policy, name, version, rules")
    try:
        pack = PolicyPack.model_validate(data)
    except ValidationError as exc:
        # The base pack is validated alone first, so an error in a merged pack is the override's.
        raise validation_error(override or base, exc) from None
    for rule_id, rule in pack.rules.items():
        document = override if override is not None and ("rules", rule_id) in override.lines else base
        if not _RULE_ID.match(rule_id):
            raise document.error(("rules", rule_id), "a rule id must be lower_snake_case")
        references = [("requires", other) for other in rule.requires.designations]
        references += [("reports_of", rule.reports_of)] if rule.reports_of else []
        for key, other in references:
            if other not in pack.rules:
                raise document.error(("rules", rule_id, key), f"{other!r} is not a rule of this pack")
    return pack


def _validate_override(override: YamlDocument, pack: PolicyPack) -> OverrideFile:
    if not isinstance(override.data, dict):
        raise MappingFileError(override.source, 1, "", "expected a mapping with version, policy, rules")
    try:
        parsed = OverrideFile.model_validate(override.data)
    except ValidationError as exc:
        raise validation_error(override, exc) from None
    if parsed.policy.upper() != pack.policy.upper():
        problem = f"overrides policy {parsed.policy!r}, but the pack is {pack.policy!r}"
        raise override.error(("policy",), problem)
    return parsed


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """The base pack with the override's rules and case settings laid over it, key by key."""
    merged = dict(base)
    for section in ("rules", "case"):
        if override.get(section) is not None:
            merged[section] = _deep_merge(base.get(section) or {}, override[section])
    if override.get("name"):
        merged["name"] = f"{base.get('name')} ({override['name']})"
    return merged


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def _rule_order(pack: PolicyPack, document: YamlDocument) -> tuple[str, ...]:
    """Rules sorted so that each comes after the rules it requires or counts reports of."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(rule_id: str, chain: tuple[str, ...]) -> None:
        if state.get(rule_id) == "done":
            return
        if state.get(rule_id) == "visiting":
            cycle = " -> ".join((*chain, rule_id))
            raise document.error(("rules", rule_id), f"rules require each other in a cycle: {cycle}")
        state[rule_id] = "visiting"
        rule = pack.rules[rule_id]
        for other in (*rule.requires.designations, *([rule.reports_of] if rule.reports_of else [])):
            visit(other, (*chain, rule_id))
        state[rule_id] = "done"
        order.append(rule_id)

    for rule_id in pack.rules:
        visit(rule_id, ())
    return tuple(order)


def _looser(
    base: PolicyPack, merged: PolicyPack, override_file: OverrideFile, override: YamlDocument
) -> list[str]:
    """Every way the override makes an existing rule easier to escape than the statute's pack."""
    warnings: list[str] = []
    for rule_id in override_file.rules:
        if rule_id not in base.rules:
            continue
        for key, problem in _loosened(base.rules[rule_id], merged.rules[rule_id]):
            path = ("rules", rule_id, key)
            line = override.line_of(path)
            where = f"{override.source}:{line}" if line is not None else override.source
            warnings.append(f"{where}: {'.'.join(path)}: {problem} ({base.rules[rule_id].citation})")
    return warnings


def _loosened(statute: Rule, district: Rule) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if statute.enabled and not district.enabled:
        found.append(("enabled", "rule disabled"))
    if district.threshold > statute.threshold:
        problem = f"{district.threshold:g} is looser than the statute's {statute.threshold:g}"
        found.append(("threshold", problem))
    if statute.compare == "at_least" and district.compare == "more_than":
        found.append(("compare", "'more_than' is looser than the statute's 'at_least'"))
    if district.min_enrolled_days > statute.min_enrolled_days:
        found.append(("min_enrolled_days", f"raised from {statute.min_enrolled_days}"))
    if (statute.window, statute.alternatives) != (district.window, district.alternatives):
        found.append(("window", f"changed from {statute.window.describe()}: check it against the statute"))
    if district.requires != statute.requires and (
        set(district.requires.designations) - set(statute.requires.designations)
        or set(district.requires.conditions) - set(statute.requires.conditions)
    ):
        found.append(("requires", "adds requirements the statute does not make"))
    grades = sorted({grade for band in statute.grade_thresholds for grade in band.grades}, key=GRADES.index)
    raised = [grade for grade in grades if district.threshold_for(grade) > statute.threshold_for(grade)]
    if raised:
        found.append(("grade_thresholds", f"raised for grade(s) {', '.join(raised)}"))
    if set(district.outside_membership_codes) - set(statute.outside_membership_codes):
        problem = "leaves more days out of membership: check each code is a State-excused absence"
        found.append(("outside_membership_codes", problem))
    if statute.counts is not None and district.counts is not None:
        found += [(f"counts.{key}", problem) for key, problem in _counts_loosened(statute, district)]
    return found


def _counts_loosened(statute: Rule, district: Rule) -> list[tuple[str, str]]:
    assert statute.counts is not None
    assert district.counts is not None
    found: list[tuple[str, str]] = []
    dropped = sorted(set(statute.counts.categories) - set(district.counts.categories))
    if dropped:
        found.append(("categories", f"no longer counts {', '.join(dropped)}"))
    if statute.counts.full_days and not district.counts.full_days:
        found.append(("full_days", "whole-day absences no longer count"))
    before, after = statute.counts.partial_days, district.counts.partial_days
    if before is not None and (after is None or _fewer_parts(before, after)):
        found.append(("partial_days", "counts fewer part-day absences than the statute"))
    return found


def _fewer_parts(statute: PartialDays, district: PartialDays) -> bool:
    """Whether the district's part-day rule counts fewer part days (a day fraction compares only
    with another fraction, since the day's length may differ between them)."""
    if (statute.more_than_day_fraction is None) != (district.more_than_day_fraction is None):
        return True
    if statute.more_than_day_fraction is not None and district.more_than_day_fraction is not None:
        return district.more_than_day_fraction > statute.more_than_day_fraction
    return district.minimum_minutes_of(None) > statute.minimum_minutes_of(None)
