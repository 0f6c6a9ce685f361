"""The comparison features of person records (CRM contacts and leads), in DuckDB SQL.

One row per person record, keyed like the identity graph's node
(``external_id:<source_system>:<contacts|leads>:<id>``). Values are normalised so that
a splink comparison only has to compare: canonical first names through the nickname
list, streets with their suffixes spelled out, a company key that is the same for
``Hawthorn Field Logic LLC`` and ``@hawthornfieldlogic.com``, the letters of an email's
local part (``hannah.cox86`` -> ``hannahcox``), the last seven digits of a phone.
"""

from __future__ import annotations

import duckdb

from ml.identity.nicknames import nickname_rows

# Mailbox providers: their domain says nothing about the company a person works for.
PERSONAL_EMAIL_LABELS = (
    "aol", "fastmail", "gmail", "gmx", "googlemail", "hotmail", "icloud", "live", "mail",
    "me", "msn", "outlook", "proton", "protonmail", "web", "yahoo", "yandex", "zoho",
)  # fmt: skip

LEGAL_SUFFIXES = (
    "ab", "ag", "as", "bv", "co", "company", "corp", "corporation", "gmbh", "inc",
    "incorporated", "kg", "limited", "llc", "llp", "ltd", "nv", "oy", "plc", "pty",
    "sa", "sarl", "sas", "spa", "srl",
)  # fmt: skip

STREET_SUFFIXES = {
    "st": "street", "rd": "road", "ave": "avenue", "av": "avenue", "blvd": "boulevard",
    "ln": "lane", "dr": "drive", "ct": "court", "pl": "place", "sq": "square",
    "gdns": "gardens", "cl": "close", "cres": "crescent", "tce": "terrace", "hwy": "highway",
    "pkwy": "parkway", "str": "strasse", "cir": "circle", "mt": "mount",
}  # fmt: skip

# Records of one tenant sharing a first and last name beyond this are not blocked on the
# name alone (they are still compared when they share a date of birth, company, ...).
MAX_NAME_BLOCK = 50

# A record's creation time is evidence when a person's action created it (a web form that
# writes a lead, a sign-up and a subscription in the same second). More records of one
# tenant created in the same second than this are a batch (an import), not a person.
MAX_SAME_CREATED = 5

# The record-level columns splink compares; features_hash covers exactly these.
FEATURE_COLUMNS = (
    "first_name",
    "first_name_canonical",
    "first_name_canonicals",
    "last_name",
    "dob",
    "email_local",
    "email_letters",
    "phone",
    "phone_last7",
    "street",
    "postal_code",
    "city",
    "company_key",
    "email_year",
    "job_title",
    "created_at",
)

# What a record's deterministic cluster knows (lists over its records): the comparisons
# use these, so a support ticket's bare name and email can meet the CRM record's date of
# birth and company through the cluster they already belong to.
CLUSTER_COLUMNS = {
    "cluster_dobs": "dob",
    "cluster_birth_years": None,  # years of birth and email year digits
    "cluster_email_locals": "email_local",
    "cluster_phones": "phone_last7",
    "cluster_streets": "street",
    "cluster_postcodes": "postal_code",
    "cluster_companies": "company_key",
    "cluster_titles": "job_title",
    "cluster_created": "created_at",
}


def register_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Temp tables the feature SQL joins: nicknames, personal mail labels, legal suffixes."""
    con.execute("create or replace temp table identity_nicknames (name varchar, canonical varchar)")
    con.executemany("insert into identity_nicknames values (?, ?)", nickname_rows())


def _company_key(expr: str) -> str:
    suffixes = "|".join(LEGAL_SUFFIXES)
    cleaned = f"regexp_replace(lower(strip_accents({expr})), '[^a-z0-9 ]', ' ', 'g')"
    without_suffix = f"regexp_replace({cleaned}, '\\b({suffixes})\\b', ' ', 'g')"
    return f"nullif(regexp_replace({without_suffix}, '[^a-z0-9]', '', 'g'), '')"


def _street(expr: str) -> str:
    out = f"regexp_replace(lower(strip_accents({expr})), '[^a-z0-9 ]', ' ', 'g')"
    for short, full in STREET_SUFFIXES.items():
        out = f"regexp_replace({out}, '\\b{short}\\b', '{full}', 'g')"
    return f"nullif(trim(regexp_replace({out}, '\\s+', ' ', 'g')), '')"


def source_keys_sql(staging: str = "staging") -> str:
    """Every person record's key and load time, read without normalising anything."""
    return f"""
    select tenant_id, node_key, tenant_id || '|' || node_key as unique_id, loaded_at from (
        select tenant_id, 'external_id:' || source_system || ':contacts:' || contact_id as node_key, loaded_at
        from {staging}.stg_crm__contacts
        union all
        select tenant_id, 'external_id:' || source_system || ':leads:' || lead_id, loaded_at
        from {staging}.stg_crm__leads
    )
    """


def person_records_sql(
    staging: str = "staging", reference: str = "reference", only: str | None = None
) -> str:
    """SELECT of person records' own features from the staging views.

    Columns: unique_id (tenant|node_key), tenant_id, node_key, record_loaded_at,
    verified_email (the email of a product login, confirmed at sign-up), the
    FEATURE_COLUMNS, created_minute (the blocking key of created_at) and features_hash.
    ``only`` (a relation of tenant_id, node_key) limits them to those records: an
    incremental run computes the features of new and reloaded records alone.
    """
    personal = ", ".join(f"'{label}'" for label in PERSONAL_EMAIL_LABELS)
    only_contacts = only_leads = ""
    if only:
        only_contacts = (
            f"semi join {only} as only_ on only_.tenant_id = contacts.tenant_id "
            "and only_.node_key = 'external_id:' || contacts.source_system || ':contacts:' || contacts.contact_id"
        )
        only_leads = (
            f"semi join {only} as only_ on only_.tenant_id = leads.tenant_id "
            "and only_.node_key = 'external_id:' || leads.source_system || ':leads:' || leads.lead_id"
        )
    return f"""
    with
    contacts as (
        select
            contacts.tenant_id,
            'external_id:' || contacts.source_system || ':contacts:' || contacts.contact_id as node_key,
            contacts.first_name_normalized as first_name,
            contacts.last_name_normalized as last_name,
            contacts.date_of_birth as dob,
            contacts.email_normalized as email,
            contacts.phone_e164 as phone,
            contacts.street,
            contacts.postal_code,
            contacts.city,
            accounts.account_name as company,
            case when contacts.user_id is not null then contacts.email_normalized end as verified_email,
            contacts.job_title,
            contacts.created_at,
            contacts.loaded_at
        from {staging}.stg_crm__contacts as contacts
        left join {staging}.stg_crm__accounts as accounts
            on contacts.tenant_id = accounts.tenant_id
            and contacts.source_system = accounts.source_system
            and contacts.account_id = accounts.account_id
        {only_contacts}
    ),
    leads as (
        select
            tenant_id,
            'external_id:' || source_system || ':leads:' || lead_id,
            first_name_normalized,
            last_name_normalized,
            null::date,
            email_normalized,
            phone_e164,
            null::varchar,
            null::varchar,
            null::varchar,
            company,
            null::varchar,
            job_title,
            created_at,
            loaded_at
        from {staging}.stg_crm__leads as leads
        {only_leads}
    ),
    created_counts as (
        select tenant_id, created_at, count(*) as records from (
            select tenant_id, created_at from {staging}.stg_crm__contacts
            union all
            select tenant_id, created_at from {staging}.stg_crm__leads
        ) group by all
    ),
    records as (
        select * from contacts
        union all
        select * from leads
    ),
    nicknames as (
        select name, min(canonical) as canonical, list(canonical order by canonical) as canonicals
        from identity_nicknames group by name
    ),
    role_locals as (
        select distinct lower(local_part) as local_part from {reference}.role_email_local_parts
    ),
    parsed_raw as (
        select
            records.*,
            split_part(email, '@', 1) as raw_local,
            split_part(split_part(email, '@', 2), '.', 1) as domain_label,
            regexp_replace(coalesce(first_name, ''), '[^a-z]', '', 'g') as first_letters
        from records
    ),
    parsed as (
        select
            *,
            regexp_replace(raw_local, '[^a-z]', '', 'g') as local_letters,
            regexp_replace(coalesce(last_name, ''), '[^a-z]', '', 'g') as last_letters
        from parsed_raw
    ),
    parsed_named as (
        select
            *,
            -- spelled from the name as typed, or from any canonical form of the first name
            -- (jack.smith for John Smith), or close to one of those (a typo on either side)
            list_bool_or(list_transform(
                list_distinct(list_append(coalesce(nicknames_any.canonicals, []), first_letters)),
                first -> list_bool_or(list_transform(
                    [first || last_letters, last_letters || first, first, last_letters,
                     first[1] || last_letters, first || last_letters[1], last_letters || first[1]],
                    pattern -> local_letters <> '' and jaro_winkler_similarity(local_letters, pattern) >= 0.9
                ))
            )) as name_derived
        from parsed
        left join (
            select name, list(canonical) as canonicals from identity_nicknames group by name
        ) as nicknames_any on nicknames_any.name = parsed.first_letters
    ),
    features as (
        select
            parsed.tenant_id || '|' || parsed.node_key as unique_id,
            parsed.tenant_id,
            parsed.node_key,
            parsed.loaded_at as record_loaded_at,
            parsed.verified_email,
            nullif(parsed.first_letters, '') as first_name,
            coalesce(nicknames.canonical, nullif(parsed.first_letters, '')) as first_name_canonical,
            coalesce(nicknames.canonicals, [nullif(parsed.first_letters, '')]) as first_name_canonicals,
            nullif(regexp_replace(coalesce(parsed.last_name, ''), '[^a-z]', '', 'g'), '') as last_name,
            parsed.dob,
            -- A local part spelled from the person's own name (john.smith, jsmith) says no
            -- more than the name does: comparing it would count the name twice and merge
            -- namesakes. Only a local part with something else in it is evidence.
            case when role_locals.local_part is null
                and (not parsed.name_derived or regexp_matches(parsed.raw_local, '[0-9]'))
                then nullif(parsed.raw_local, '') end as email_local,
            case when role_locals.local_part is null and not parsed.name_derived
                then nullif(parsed.local_letters, '') end as email_letters,
            parsed.phone,
            case when length(parsed.phone) >= 9 then right(parsed.phone, 7) end as phone_last7,
            {_street("parsed.street")} as street,
            nullif(upper(regexp_replace(coalesce(parsed.postal_code, ''), '[^A-Za-z0-9]', '', 'g')), '')
                as postal_code,
            nullif(lower(strip_accents(trim(parsed.city))), '') as city,
            -- two trailing digits of a personal address are often the birth year (ann.lee86)
            case when regexp_matches(parsed.raw_local, '[a-z][0-9]{{2}}$') then right(parsed.raw_local, 2) end
                as email_year,
            coalesce(
                {_company_key("parsed.company")},
                case when parsed.domain_label not in ({personal}) then nullif(parsed.domain_label, '') end
            ) as company_key,
            nullif(lower(strip_accents(trim(regexp_replace(parsed.job_title, '\\s+', ' ', 'g')))), '') as job_title,
            case when created_counts.records <= {MAX_SAME_CREATED} then parsed.created_at end as created_at
        from parsed_named as parsed
        left join nicknames on nicknames.name = parsed.first_letters
        left join role_locals on role_locals.local_part = parsed.raw_local
        left join created_counts
            on created_counts.tenant_id = parsed.tenant_id and created_counts.created_at = parsed.created_at
    )
    select
        *,
        date_trunc('minute', created_at) as created_minute,
        md5(concat_ws('|', {", ".join(f"coalesce({c}::varchar, '')" for c in FEATURE_COLUMNS)}))
            as features_hash
    from features
    """


def with_cluster_profile_sql(records: str, clusters: str) -> str:
    """``records`` plus their deterministic cluster (cluster_key, cluster_size) and the
    CLUSTER_COLUMNS of its profile.

    ``clusters`` maps unique_id -> cluster_key, cluster_size. record_hash covers the
    record's features and its cluster's profile: a record whose cluster learnt something
    new is scored again.
    """
    aggregates = []
    for name, column in CLUSTER_COLUMNS.items():
        if column is None:
            values = (
                "list_concat(list(lpad((year(f.dob) % 100)::varchar, 2, '0')) filter (where f.dob is not null), "
                "list(f.email_year) filter (where f.email_year is not null))"
            )
        else:
            values = f"list(f.{column}) filter (where f.{column} is not null)"
        aggregates.append(f"list_sort(list_distinct({values})) as {name}")
    hashed = " || '|' || ".join(f"coalesce(profile.{name}::varchar, '')" for name in CLUSTER_COLUMNS)
    return f"""
    with profile as (
        select c.cluster_key, {", ".join(aggregates)}
        from {records} as f join {clusters} as c using (unique_id)
        group by c.cluster_key
    )
    select
        f.*,
        c.cluster_key,
        c.cluster_size,
        profile.* exclude (cluster_key),
        md5(f.features_hash || '|' || {hashed}) as record_hash
    from {records} as f
    join {clusters} as c using (unique_id)
    join profile using (cluster_key)
    """


def scoring_sql(features: str) -> str:
    """``features`` (records with their cluster profiles) plus the name blocking key.

    The key is null for names so common in the tenant that comparing all their records
    pairwise would grow quadratically (and mostly meet namesakes); it depends on every
    record of the tenant, so it is computed for the scoring, not stored.
    """
    return f"""
    select
        *,
        case when count(*) over (partition by tenant_id, last_name, first_name_canonical) <= {MAX_NAME_BLOCK}
            then last_name || '|' || first_name_canonical end as name_block
    from {features}
    """
