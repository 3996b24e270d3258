"""Memory: what the assistant keeps about a user, a company or everyone, and its purge.

Records are typed (preference, fact, reminder, interaction summary), carry a retention class
whose expiry deletes them (``service.sweep_expired``), are checked against existing ones
before they are added (``dedup``), and are removed from every registered store on request
(``purge``), with a receipt in the audit chain.
"""
