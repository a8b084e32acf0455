"""vpc-network-guard: CrossGuard rules that stop an insecure AWS network at preview time.

`catalog.RULES` lists every rule; `sdk.to_policy` turns one into a pulumi_policy policy; the pack's
`__main__.py` builds the PolicyPack. Everything but `sdk` and `one_pass` is free of pulumi_policy.
"""
