{#- Every marketing touch of a known person: joining a campaign (campaign_members.added_at),
    responding to it (first_responded_at), and opening or clicking its emails. -#}
with

members as not materialized (select * from {{ ref('stg_crm__campaign_members') }}),
email_activity as not materialized (select * from {{ ref('stg_crm__email_activity') }}),
campaigns as not materialized (select * from {{ ref('stg_crm__campaigns') }}),
resolved as not materialized (select * from {{ ref('int_identity_records_resolved') }}),

member_touches as (
    select
        members.tenant_id,
        resolved.customer_id,
        members.campaign_id,
        unnest(['member_added', 'responded']) as touch_type,
        unnest([members.added_at, members.first_responded_at]) as touched_at,
        'campaign_members:' || members.campaign_member_id as source_record
    from members
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
    from email_activity
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
        touches.source_record
    from (select * from member_touches union all select * from email_touches) as touches
    left join campaigns
        on touches.tenant_id = campaigns.tenant_id
        and touches.campaign_id = campaigns.campaign_id
    where touches.customer_id is not null and touches.touched_at is not null
)

select * from final
