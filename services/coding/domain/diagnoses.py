"""ICD-10-CM diagnosis checks: each code alone, the principal code, and codes in pairs."""

from __future__ import annotations

from services.coding.domain import icd10cm
from services.coding.domain.encounter import Sex
from services.coding.domain.findings import Finding, Rule, error, warning
from services.coding.domain.icd10cm import Status
from services.coding.domain.sex_rules import sex_conflict


def check_code(code: str) -> list[Finding]:
    """Format, existence and billability of one normalised code."""
    if not icd10cm.looks_like_icd10cm(code):
        return [
            error(
                Rule.ICD_FORMAT,
                code,
                f"{code!r} is not shaped like an ICD-10-CM code (a letter, a digit, a letter or "
                "digit, then up to four more after the dot, e.g. E11.9).",
            )
        ]
    found = icd10cm.check_code(code)
    if found.status is Status.BILLABLE:
        return []
    if found.status is Status.NOT_BILLABLE:
        return [
            error(
                Rule.ICD_NOT_BILLABLE,
                code,
                f"{code} ({icd10cm.description(code)}) is a heading with more specific codes "
                f"below it (such as {found.suggestion}); report the most specific code.",
            )
        ]
    if found.status is Status.NEEDS_7TH:
        placeholder = ""
        if found.stem and found.stem.replace(".", "") != code.replace(".", ""):
            placeholder = f", written on {found.stem} with its placeholder X"
        return [
            error(
                Rule.ICD_NEEDS_7TH_CHARACTER,
                code,
                f"{code} is incomplete: it needs a 7th character{placeholder} "
                f"({_sevenths(found.seventh)}), for example {found.stem}{_first(found.seventh)}.",
            )
        ]
    if found.status is Status.INVALID_7TH:
        return [
            error(
                Rule.ICD_INVALID_7TH_CHARACTER,
                code,
                f"7th character '{code[-1]}' is not valid on {found.stem}; it takes "
                f"{_sevenths(found.seventh)}.",
            )
        ]
    if found.status is Status.MISSING_PLACEHOLDER:
        return [
            error(
                Rule.ICD_MISSING_PLACEHOLDER,
                code,
                f"{code} is missing its placeholder X before the 7th character: report "
                f"{found.suggestion} ({icd10cm.description(found.suggestion or '')}).",
            )
        ]
    return [
        error(
            Rule.ICD_UNKNOWN_CODE,
            code,
            f"{code} is not a code in ICD-10-CM ({icd10cm.release()}).",
        )
    ]


def _sevenths(seventh: dict[str, str] | None) -> str:
    """ "A initial encounter; D subsequent encounter; S sequela", shortened for long lists."""
    meanings = {char: meaning.split("/")[0].strip() for char, meaning in (seventh or {}).items()}
    chars = sorted(meanings)
    if len(chars) <= 4:
        return "; ".join(f"{char} {meanings[char]}" for char in chars)
    examples = [char for char in ("A", "D", "S") if char in meanings] or chars[:3]
    shown = "; ".join(f"{char} {meanings[char]}" for char in examples)
    return f"one of {', '.join(chars)}; {shown}"


def _first(seventh: dict[str, str] | None) -> str:
    return min(seventh) if seventh else ""


def check_principal(code: str, inpatient: bool) -> list[Finding]:
    """Codes the classification forbids, or advises against, as principal/first-listed."""
    role = "principal" if inpatient else "first-listed"
    if icd10cm.is_manifestation(code):
        return [
            error(
                Rule.ICD_MANIFESTATION_PRINCIPAL,
                code,
                f"{code} ({icd10cm.description(code)}) is a manifestation code and cannot be the "
                f"{role} diagnosis: sequence the underlying condition first.",
            )
        ]
    if icd10cm.is_infectious_agent(code):
        return [
            error(
                Rule.ICD_INFECTIOUS_AGENT_PRINCIPAL,
                code,
                f"{code} identifies an infectious agent (B95-B97) and is only reported in "
                f"addition to the infection it causes, never as the {role} diagnosis.",
            )
        ]
    if icd10cm.is_external_cause(code):
        return [
            error(
                Rule.ICD_EXTERNAL_CAUSE_PRINCIPAL,
                code,
                f"{code} is an external cause code (V00-Y99); it can never be the {role} "
                "diagnosis: sequence the injury or condition first.",
            )
        ]
    for note in icd10cm.code_first_notes(code):
        if note.underlying:
            return [
                warning(
                    Rule.ICD_CODE_FIRST,
                    code,
                    f"{code} has a 'code first' note ({note.summary}); the underlying condition "
                    f"is normally sequenced before it, not as {role}. Confirm the sequence.",
                )
            ]
    return []


def check_sequence(codes: list[str]) -> list[Finding]:
    """A code whose "code first" note names a code listed after it."""
    findings: list[Finding] = []
    for position, code in enumerate(codes):
        for note in icd10cm.code_first_notes(code):
            later = [other for other in codes[position + 1 :] if _in_ranges(other, note)]
            if later:
                findings.append(
                    warning(
                        Rule.ICD_CODE_FIRST,
                        code,
                        f"{code} has a 'code first' note ({note.summary}); {later[0]} is "
                        f"listed after it but should come before {code}.",
                    )
                )
                break
    return findings


def _in_ranges(code: str, note: icd10cm.CodeFirstNote) -> bool:
    return any(code in code_range for code_range in note.ranges)


def check_excludes1(codes: list[str]) -> list[Finding]:
    """Pairs of codes that an Excludes1 note says are never reported together."""
    findings: list[Finding] = []
    for i, first in enumerate(codes):
        for second in codes[i + 1 :]:
            if first == second:
                continue
            entry = icd10cm.excludes1_conflict(first, second)
            pair = (first, second)
            if entry is None:
                entry = icd10cm.excludes1_conflict(second, first)
                pair = (second, first)
            if entry is not None:
                findings.append(
                    error(
                        Rule.ICD_EXCLUDES1,
                        second,
                        f"{first} and {second} cannot be reported together: {entry.owner} "
                        f"({_owner_title(entry.owner, pair[0])}) has an Excludes1 note "
                        f"'{entry.note}'. Keep the code the documentation supports, or query "
                        "the physician if the two conditions are unrelated.",
                    )
                )
    return findings


def _owner_title(owner: str, code: str) -> str:
    for name, title, _block in icd10cm.lineage(code):
        if name == owner:
            return title
    return ""


def check_sex(code: str, sex: Sex) -> list[Finding]:
    rule = sex_conflict(code, sex)
    if rule is None:
        return []
    patient = "male" if sex is Sex.MALE else "female"
    only = "female" if rule.sex is Sex.FEMALE else "male"
    return [
        error(
            Rule.ICD_SEX_CONFLICT,
            code,
            f"{code} ({icd10cm.description(code)}) applies to {only} patients only "
            f"({rule.source}), and the patient is recorded as {patient}. Check the code or "
            "the patient's recorded sex.",
        )
    ]
