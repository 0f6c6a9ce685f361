{#- Every marketing touch of a known person: joining a campaign (campaign_members.added_at),
    responding to it (first_responded_at), and opening or clicking its emails.

    Incremental at record grain (delete+insert on tenant and source_record), like
    int_customer_activities_collected: a run rewrites the touches of the campaign members
    and email activities resolved since the last run (a new version, or a new customer:
    int_identity_records_resolved is where every change of a record's customer shows)
    and of the campaigns updated since (their name and channel are copied). Each
    rewritten record is also written as one row without touched_at, which the post-hook
    deletes: so a record that now resolves to nobody, or no longer counts as a touch,
    loses its rows. A table from before this model was incremental has no built_at: the
    first run rewrites every record, and the post-hook deletes the rows it did not. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'source_record'],
        post_hook=["{% if is_incremental() %}delete from {{ this }} where touched_at is null or built_at is null{% endif %}"],
    )
}}

{%- set watermark = built_watermark() %}
{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}

with

members as not materialized (select * from {{ ref('stg_crm__campaign_members') }}),
email_activity as not materialized (select * from {{ ref('stg_crm__email_activity') }}),
campaigns as not materialized (select * from {{ ref('stg_crm__campaigns') }}),
resolved as not materialized (
    select * from {{ ref('int_identity_records_resolved') }}
    where entity in ('campaign_members', 'email_activity')
),

{% if watermark.incremental %}
-- The records to (re)write; the watermark is a literal on plain columns, so the scans
-- skip the older rows.
changed_campaigns as (
    select tenant_id, campaign_id from campaigns where loaded_at > {{ watermark.mark }}
),

changed as materialized (
    select tenant_id, entity, source_system, record_id from resolved where resolved_at > {{ watermark.mark }}
    union
    select tenant_id, 'campaign_members', source_system, campaign_member_id
    from members semi join changed_campaigns using (tenant_id, campaign_id)
    union
    select tenant_id, 'email_activity', source_system, email_activity_id
    from email_activity semi join changed_campaigns using (tenant_id, campaign_id)
),

changed_members as not materialized (
    select members.* from members
    semi join (select * from changed where entity = 'campaign_members') as changed
        on members.tenant_id = changed.tenant_id and members.source_system = changed.source_system
        and members.campaign_member_id = changed.record_id
),

changed_email_activity as not materialized (
    select email_activity.* from email_activity
    semi join (select * from changed where entity = 'email_activity') as changed
        on email_activity.tenant_id = changed.tenant_id and email_activity.source_system = changed.source_system
        and email_activity.email_activity_id = changed.record_id
),
{% else %}
changed_members as not materialized (select * from members),
changed_email_activity as not materialized (select * from email_activity),
{% endif %}

member_touches as (
    select
        members.tenant_id,
        resolved.customer_id,
        members.campaign_id,
        unnest(['member_added', 'responded']) as touch_type,
        unnest([members.added_at, members.first_responded_at]) as touched_at,
        'campaign_members:' || members.campaign_member_id as source_record
    from changed_members as members
    inner join resolved
        on resolved.entity = 'campaign_members'
        and members.tenant_id = resolved.tenant_id
        and members.source_system = resolved.source_system
        and members.campaign_member_id = resolved.record_id
),

email_touches as (
    select
        email_activity.tenant_id,
        resolved.customer_id,
        email_activity.campaign_id,
        'email_' || email_activity.activity_type as touch_type,
        email_activity.occurred_at as touched_at,
        'email_activity:' || email_activity.email_activity_id as source_record
    from changed_email_activity as email_activity
    inner join resolved
        on resolved.entity = 'email_activity'
        and email_activity.tenant_id = resolved.tenant_id
        and email_activity.source_system = resolved.source_system
        and email_activity.email_activity_id = resolved.record_id
    where email_activity.activity_type in ('opened', 'clicked')
),

final as (
    select
        touches.tenant_id,
        touches.customer_id,
        touches.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        touches.touch_type,
        touches.touched_at,
        touches.source_record,
        {{ run_at }} as built_at
    from (select * from member_touches union all select * from email_touches) as touches
    left join campaigns
        on touches.tenant_id = campaigns.tenant_id
        and touches.campaign_id = campaigns.campaign_id
    where touches.customer_id is not null and touches.touched_at is not null
    {% if watermark.incremental %}
    union all
    select tenant_id, null, null, null, null, null, null, entity || ':' || record_id, {{ run_at }}
    from changed
    {% endif %}
)

select * from final
