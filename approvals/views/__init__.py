"""The requester's pages (requests, sections, progress) and the public transparency page
(published). access.py says who may reach each of them."""
