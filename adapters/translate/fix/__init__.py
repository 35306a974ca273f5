"""FIX 4.4 drop copy: ExecutionReport (35=8) and OrderCancelReject (35=9) to ledger facts (format `fix`).

Input is a FIX engine's log, one message per line. `wire` frames the log into messages and parses one
strictly (BeginString, BodyLength, MsgType, CheckSum; the fields the translation reads must be single);
`execution` maps the parsed fields of an ExecutionReport or OrderCancelReject to ledger facts, skips
session messages and refuses every other message (quarantined). Each module's docstring holds its rules.
"""

from __future__ import annotations

from adapters.translate.fix.execution import FORMAT, translate
from adapters.translate.fix.wire import frame

__all__ = ["FORMAT", "frame", "translate"]
