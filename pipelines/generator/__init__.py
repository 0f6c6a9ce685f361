"""Deterministic demo data for crm360: landing files plus the ground truth behind them.

Every layer needs data whose right answer is known: the loader must quarantine exactly
the rows that are broken, identity resolution must rebuild people the sources never
link explicitly, and the models must recover signal that is really there. So this
package simulates people first (who they are, what they do, why they buy or leave),
writes what each source system would have exported about them, and keeps the truth.

API
---
``generate(scale, seed, out, truth_out, *, bad_fraction=0.006, people=None,
overwrite=False) -> dict``; ``crm360 generate`` calls it. Same seed, same bytes: the
clock is fixed (NOW = 2026-10-31T00:00:00Z; events span the two years before it, CRM
history up to four), no file holds a wall-clock time, gzip headers carry mtime 0.
``truth_out`` may not be inside ``out`` (the loader would ingest it); a landing folder
that already holds tenants/, crm/ or events/ is refused unless ``overwrite=True``
(landing is append-only). Returns counts per entity, file, event type and bad kind,
and seconds.

Scales: ``small`` 400 people, ~6k events, ~1-2 s (what tests use; two blocks, so every
test crosses a block boundary); ``demo`` 20,000 people, ~1M events; ``large``
1,000,000 people, ~21M events. People are generated and written in blocks of 50,000
(each block from its own random streams), so memory stays bounded (~1.2 GB) at any scale.

Layout (``out``)
----------------
::

    tenants/tenants.csv                        acme (GB, Europe/London, GBP), globex (US, America/New_York, USD)
    crm/<entity>/<source>-<block>.csv|parquet  exactly the contract's columns, in order
    crm/<entity>/<source>-all.csv              users, products, campaigns (tenant-wide)
    events/<tenant>/batch-<block>-<part>.jsonl.gz   Segment messages in timestamp order
    events/ghost/batch-<block>-00.jsonl.gz     messages for a tenant nobody registered

Parquet: contacts from ``web`` (sign-ups), orders from ``web`` (the shop), email_activity
from ``marketing``, consents from ``web``; everything else is CSV. Contacts come from
four systems (crm, web, support, marketing), users from crm (reps, marketers,
managers) and support (agents), orders from web and crm, NPS from marketing (nps) and
support (csat after tickets), consents from marketing, web and crm.

CSV: UTF-8, LF, header line, minimal quoting (RFC 4180: quotes doubled), an empty field
is NULL, and no field ever contains a line break. Timestamps are ISO 8601 with an
offset: the crm and marketing exports in the tenant's local time (``+01:00``/``-05:00``
in summer), the support desk in UTC with ``Z``. Dates are ``YYYY-MM-DD``. Parquet
columns are typed (timestamps as UTC instants). Events are analytics.js-shaped
messages with ``timestamp``/``sentAt`` as ``...T...:ss.mmmZ``.

A CRM row is a version of a record: leads (new -> working -> mql -> sql -> converted /
disqualified / nurturing), opportunities (created, latest stage), subscriptions
(active, past_due, active again, cancelled), tickets (new, open/pending,
solved/closed), accounts and CRM contacts (a later version after a move or a head-count
change) and campaigns (scheduled, active, completed) have several rows with increasing
updated_at. Consent changes are separate records (a grant and a later withdrawal are
two records), so nothing is lost when staging keeps the latest version of a record.
Record ids are unique per (tenant_id, source_system, entity) and repeat across tenants
on purpose (campaign ``EM-0001`` exists in both): always key by tenant.

Identity (what resolution is up against)
----------------------------------------
The same person appears as a CRM contact, a web sign-up (with date of birth and the
product ``user_id``), a support requester, a marketing subscriber and/or a lead, each
typed anew: nicknames (Robert/Bob, Elizabeth/Liz), one-letter typos, case, e-mail case
and padding (``'  John.Smith@Example.com '``), Gmail dots, ``+tags`` and googlemail.com,
personal vs work vs shared role mailboxes (``info@company`` typed by several
colleagues), phones as ``+44 20 7946 0123``, ``+442079460123``, ``020 7946 0123``,
``(020) 7946-0123``, ``0044 20 7946 0123`` (US: ``(212) 555-0123``, ``212.555.0123``,
``1-212-555-0123``; people abroad always internationally), abbreviated streets, moves
(a later record or version carries the new address), country codes vs names. Some
records carry no e-mail and either the person's second phone or nothing but name,
date of birth and address, so they share no identifier with the person's other
records. Common names repeat across distinct people (several John Smiths). In events,
each device has its own anonymousId; it is stitched to the userId by an ``identify``
(traits.email) at sign-up or first log-in on that device, or by an ``alias``; lead forms
send an anonymous ``identify`` with the lead's e-mail; shop orders are tracked
server-side with the userId only.

Signal (see signals.py for the exact models and coefficients)
-------------------------------------------------------------
Lead conversion: logistic in firmographic fit (industry, company size band, job-title
seniority), the person's page/track messages in the lead window (created_at - 30 days
to created_at + 14 days), e-mail opens and clicks there, and campaign memberships added
there; converted leads convert within 90 days of created_at. Churn: for subscriptions
active at the cut-off (NOW - 90 days), logistic in the usage trend (page/track messages
in the 90 days before the cut-off vs the 90 before those), tickets and SLA breaches in
the 180 days before it, the latest NPS score, tenure and past-due status; churners
cancel within the 90 days after it and their product usage stops. Purchases follow
BG/NBD (purchase rate ~ Gamma(r, alpha) per day, dropout ~ Beta(a, b) after each
purchase, first purchase when they became a customer) with Gamma-Gamma spend; only
``completed`` orders are BG/NBD purchases (cancelled and refunded ones are extra).
SLA targets (calendar hours, first response / resolution): urgent 1/8, high 4/24,
normal 8/72, low 24/120; due times are in the tickets, and some are breached.

Bad input (see badinput.py for what each kind looks like)
---------------------------------------------------------
Bad rows are added next to valid ones, about ``bad_fraction`` of a file's valid rows per
kind (stochastically rounded per file and per 50,000-line slice of an events file,
so the overall fraction holds even for small files). Each is broken in exactly one
way and named by a quarantine reason, except ``duplicate_message`` /
``duplicate_record`` (verbatim repeats that must be counted as duplicates, not loaded
twice). ``truth_out/bad_input.parquet`` lists every injected row: file (POSIX path
relative to ``out``), line, kind, detail, file_line.

Line numbers, 1-based:

- JSONL: the line of the (decompressed) file; the generator never writes blank lines.
- CSV: the data row, header excluded (data row 1 is the file's second line).
  ``file_line`` holds the physical line (data row + 1) for readers that count the
  header; for JSONL and Parquet ``file_line == line``.
- Parquet: the row number.

A broken-quoting CSV row opens a quote in one field and never closes it on that line.
Because no valid field spans lines, a reader that parses each physical line on its own
(a strict parser, or a field count against the header) flags exactly that row; a
reader that lets quoted fields run across lines (DuckDB's read_csv, polars) swallows
the rows after it, so the loader must not use one for landing CSVs.

Ground truth (``truth_out``, Parquet)
-------------------------------------
- ``records``: entity, tenant_id, source_system, record_id -> person_id, one row per
  record (not per version) of every valid landed CRM row (person_id null for accounts,
  products, users, campaigns).
- ``events``: tenant_id, message_id -> person_id for every valid message (each once;
  the duplicate repeats have no row of their own).
- ``people``: each person's true name, date of birth, e-mails, E.164 phones, addresses
  before and after a move, company, account_id, role, user_id, latent engagement/health.
- ``leads``: per lead the window features, logit, p_convert, converted, converted_at
  (a conversion after NOW is not in landing: see converted_by_now).
- ``churn``: per subscription active at the cut-off the features, p_churn, churned,
  churned_at. ``customers``: BG/NBD and Gamma-Gamma parameters and outcomes per customer.
- ``bad_input``: as above. ``manifest.json``: scale, seed, counts, clock, coefficients.
"""

from pipelines.generator.core import generate

__all__ = ["generate"]
