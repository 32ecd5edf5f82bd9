"""What each X12 syntax error code means, in words that quote no data.

pyx12's own messages quote the offending value (a name, a birth date, a member id), so
findings are worded from these codes instead. Sources: 999 (005010X231A1) IK304 segment,
IK403 element, IK502 transaction set and AK905 group error codes; TA1 (X12.5) TA105
interchange note codes; and pyx12's own HL/LX checks.
"""

from __future__ import annotations

ELEMENT = {
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I10": "implementation 'not used' data element present",
    "I11": "implementation too few repetitions",
    "I12": "implementation pattern match failure",
    "I13": "implementation dependent 'not used' data element present",
    "I6": "code value not used in implementation",
    "I9": "implementation dependent data element missing",
}

SEGMENT = {
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
    "HL1": "HL counts out of sequence",
    "HL2": "HL parent is not a valid parent",
    "LX": "LX counts out of sequence",
}

TRANSACTION = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control numbers in header and trailer do not match",
    "4": "number of included segments does not match the actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "23": "transaction set control number not unique within the functional group",
    "24": "S3E security end segment missing",
    "I5": "implementation one or more segments in error",
    "I6": "implementation convention not supported",
}

GROUP = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control numbers in header and trailer do not agree",
    "5": "number of included transaction sets does not match the actual count",
    "6": "group control number violates syntax",
    "10": "authentication key name unknown",
    "19": "functional group control number not unique within the interchange",
}

INTERCHANGE = {
    "001": "interchange control numbers in header and trailer do not match",
    "002": "this standard as noted in the control standards identifier is not supported",
    "003": "this version of the controls is not supported",
    "004": "the segment terminator is invalid",
    "005": "invalid interchange ID qualifier for the sender",
    "006": "invalid interchange sender ID",
    "007": "invalid interchange ID qualifier for the receiver",
    "008": "invalid interchange receiver ID",
    "009": "unknown interchange receiver ID",
    "010": "invalid authorization information qualifier value",
    "011": "invalid authorization information value",
    "012": "invalid security information qualifier value",
    "013": "invalid security information value",
    "014": "invalid interchange date value",
    "015": "invalid interchange time value",
    "016": "invalid interchange standards identifier value",
    "017": "invalid interchange version ID value",
    "018": "invalid interchange control number value",
    "019": "invalid acknowledgment requested value",
    "020": "invalid test indicator value",
    "021": "invalid number of included groups value",
    "022": "invalid control structure",
    "023": "improper (premature) end-of-file",
    "024": "invalid interchange content",
    "025": "duplicate interchange control number",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
}

_BY_LEVEL = {
    "element": ELEMENT,
    "segment": SEGMENT,
    "transaction": TRANSACTION,
    "group": GROUP,
    "interchange": INTERCHANGE,
}


def describe(level: str, code: str) -> str:
    """The code's meaning at that level, e.g. ("element", "5") -> "data element too long"."""
    text = _BY_LEVEL.get(level, {}).get(code)
    if text:
        return f"{text} (code {code})"
    return f"{level} error code {code}" if code else f"{level} error"
