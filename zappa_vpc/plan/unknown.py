"""The engine's marker for a value not known until deployment (`pulumi.runtime.rpc.UNKNOWN`).

Defined here, in a pure module, so the cost estimate and the offline preview share it without the
program depending on the preview.
"""

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
