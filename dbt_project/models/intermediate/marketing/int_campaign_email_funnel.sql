{#- Per campaign, the distinct recipients (normalised email, else contact id) of each email
    activity: sent, delivered, opened, clicked, bounced, unsubscribed. It needs no
    customer, so as a model of its own it runs while the identity graph is built, when
    dbt has a thread to spare; as a part of campaign_performance it ran at the end of a
    build, when both threads were busy. -#}
-- Ordering only (nothing is read from it): ready when the identity links are, so that it
-- fills the thread the identity chain leaves idle instead of delaying the staging models
-- that chain starts from.
-- depends_on: {{ ref('int_identity_links_collected') }}
with

email_activity as not materialized (select * from {{ ref('stg_crm__email_activity') }}),

final as (
    select
        tenant_id,
        campaign_id,
        {% for activity in ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'] %}
        count(distinct coalesce(email_normalized, contact_id)) filter (where activity_type = '{{ activity }}')
            as {{ activity }}{{ "," if not loop.last }}
        {% endfor %}
    from email_activity
    where campaign_id is not null
    group by all
)

select * from final
