"""The provider's pages: applying (apply, apply_company, submit), signing the
agreement (signing) and, once registered, the organisation's users (members).
access.py says who may reach each of them."""
