"""The provider's pages: applying (apply, submit), signing the agreement (signing)
and, once registered, the organisation's users (members). access.py says who may
reach each of them."""
