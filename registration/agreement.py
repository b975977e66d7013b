"""The text of the first LRS agreement version, loaded by the demo and by operators.

Caseworkers publish later versions in admin; a signature pins the hash of the
exact text the director read.
"""

AGREEMENT_TITLE = "Learning Records Service: learning provider agreement"

AGREEMENT_TEXT = """\
1. Parties
This agreement is between the Department for Education (the department), the data
controller of the Learning Records Service (LRS), and the organisation named in the
registration (the licensee).

2. What the licensee may do
The licensee may search the LRS and view a learner's Unique Learner Number and
personal learning record only to enrol that learner as its own student, after giving
the learner the current LRS privacy notice. Any other purpose needs the department's
written agreement after a follow-up discussion.

3. What the licensee must not do
The licensee must not sub-license, sell, lend or otherwise pass on its access to the
LRS, or any information obtained from it, to any other person or organisation. It
must not search the LRS on behalf of anyone else, including to verify a person's age
or identity for a third party.

4. Users
Each user must have their own account and must not share it. The licensee's super
user removes accounts that are no longer needed. The licensee is responsible for
everything done with its users' accounts.

5. Monitoring
Every search and every record viewed is logged. The department checks use every
night and suspends access automatically where use is excessive or unusual.

6. Changes
The licensee must tell the department at once of any change to its name, trading
names, company number, directors or ICO registration.

7. Recourse
The department may suspend or revoke access at any time, may report misuse to the
Information Commissioner, and has a right of recourse against the licensee for any
loss caused by its breach of this agreement.
"""
