"""Checks of the API fuzz run (tests/api_fuzz.rs) beyond schemathesis's own.

A request the document calls valid may still be refused by a rule of the domain (an item
already resolved, an amount with more decimals than its currency has): those answers are 409,
412 or 422 with the rule's own code, and `invalid_in_context` for a value valid alone but not
beside another field or the reference data. What must never happen is a refusal of a value
the document allows: 400, or 422 `invalid_field`.
"""

import schemathesis


@schemathesis.check
def schema_valid_field_not_refused(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code != 422:
        return None
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    if error.get("code") == "invalid_field":
        raise AssertionError(
            f"a value the document allows was refused: {error.get('field')}: {error.get('message')}"
        )
    return None
